package filtertest_test

import (
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestEventString(t *testing.T) {
	tests := []struct {
		e    filtertest.Event
		want string
	}{
		{filtertest.Event{Kind: filtertest.EventHeader, N: 103}, "header 103"},
		{filtertest.Event{Kind: filtertest.EventWrite, N: 5}, "write 5"},
		{filtertest.Event{Kind: filtertest.EventReadFrom, N: 4096}, "readfrom 4096"},
		{filtertest.Event{Kind: filtertest.EventFlush}, "flush"},
		{filtertest.Event{Kind: filtertest.EventHijack}, "hijack"},
		{filtertest.Event{Kind: filtertest.EventPush, Target: "/app.css"}, "push /app.css"},
		{filtertest.Event{Kind: 99}, "event(99)"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.e, got, tt.want)
		}
	}
}
