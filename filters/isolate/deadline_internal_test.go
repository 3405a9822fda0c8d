package isolate

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filter"
)

// TestDeadlineTimerAfterReturn: when the timer fires after the app's end
// claimed the request (the app returned in time, just before the timer
// was stopped), the response stands: nothing is dropped, answered or cut.
func TestDeadlineTimerAfterReturn(t *testing.T) {
	c := &deadliner{timeout: time.Hour, status: 503, body: "x", bodyLen: "1", hub: new(filter.Hub)}
	rec := httptest.NewRecorder()
	s := &deadlineState{c: c, under: rec}
	s.parent, s.deadline = context.Background(), time.Now()
	s.gate = filter.NewGate(rec, nil)
	s.fired.Add(1)
	s.turn.CompareAndSwap(turnRunning, turnEnded) // as end does first
	s.timedOut()
	s.fired.Wait()
	if s.answered || s.cut || !s.gate.Finish() || s.Err() != nil || rec.Code != 200 {
		t.Errorf("answered %v, cut %v, context %v, status %d", s.answered, s.cut, s.Err(), rec.Code)
	}
}
