package hostile

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Verdict is the judgement of one replay.
type Verdict struct {
	// Pass is set when the server refused the case as expected, in time.
	Pass bool
	// Reasons say what failed; empty when Pass is set.
	Reasons []string
}

// Judge judges what the server did with c. It passes when the first final
// answer has a status in c.Expect, or the server closed the connection
// without one; the answer or the close came within Window after the last
// byte sent (with DeadlineHeaderTimeout: within headerTimeout + Window
// after the connection opened); no second answer came (a request hidden
// in the first one's body was not served); the bodies are within
// c.MaxBytes; nothing the server sent holds a string of c.Forbid; and the
// health checks made while a slow case was sent all passed.
func Judge(c *Case, o *Observation, headerTimeout time.Duration) Verdict {
	var why []string
	fail := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }

	var finals []*Answer
	for i := range o.Answers {
		if o.Answers[i].Final() {
			finals = append(finals, &o.Answers[i])
		}
	}
	deadline := o.LastByte.Add(Window)
	from, fromName := o.LastByte, "the last byte sent"
	if c.Deadline == DeadlineHeaderTimeout {
		deadline = o.Start.Add(headerTimeout + Window)
		from, fromName = o.Start, "the connection opened"
	}
	var at time.Time
	switch {
	case len(finals) > 0:
		first := finals[0]
		at = first.At
		if !c.Expect.Has(first.Status) {
			fail("answered %d, want %s", first.Status, c.Expect)
		}
	case o.Closed:
		at = o.ClosedAt
	case o.Garbled != "":
		fail("sent bytes that are no HTTP response: %s", o.Garbled)
	default:
		fail("neither answered nor closed the connection within %v of %s", o.lastMoment().Sub(from).Round(time.Millisecond), fromName)
	}
	if !at.IsZero() && at.After(deadline) {
		fail("answered or closed %v after %s, later than %v", at.Sub(from).Round(time.Millisecond), fromName, deadline.Sub(from))
	}
	if len(finals) > 1 {
		fail("a second answer (%d %s) came on the same connection: the request hidden in the first one was served", finals[1].Status, finals[1].Proto)
	}
	if o.Garbled != "" && len(finals) > 0 {
		fail("sent bytes that are no HTTP response after its answer: %s", o.Garbled)
	}
	for _, a := range finals {
		if c.MaxBytes > 0 && a.BodyLen > c.MaxBytes {
			fail("a body of %d bytes, more than max-bytes %d", a.BodyLen, c.MaxBytes)
		}
	}
	for _, s := range c.Forbid {
		if bytes.Contains(o.Received, []byte(s)) {
			fail("the answer holds the forbidden %q", s)
		}
	}
	for _, err := range o.Health {
		fail("while the case was sent: %v", err)
	}
	return Verdict{Pass: len(why) == 0, Reasons: why}
}

// lastMoment is the latest time the observation knows of.
func (o *Observation) lastMoment() time.Time {
	t := later(o.Start, o.LastByte)
	for _, a := range o.Answers {
		t = later(t, a.At)
	}
	return later(t, time.Now())
}

// Result is a case replayed, judged and followed by a health check.
type Result struct {
	Case *Case
	// Sent is the request as it went on the wire.
	Sent []byte
	Obs  *Observation
	Verdict
	// HealthErr is the failure of the health check that followed the case.
	HealthErr error
}

// Run replays c against t, judges it, and checks the server's health on a
// new connection: the result passes only when the health check does too.
// The error is for a replay that could not be made.
func (t *Target) Run(ctx context.Context, c *Case) (*Result, error) {
	sent, err := t.Render(c)
	if err != nil {
		return nil, err
	}
	o, err := t.Replay(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("replaying %s: %w", c.Name, err)
	}
	res := &Result{Case: c, Sent: sent, Obs: o, Verdict: Judge(c, o, t.HeaderTimeout)}
	if res.HealthErr = t.Health(ctx); res.HealthErr != nil {
		res.Pass = false
		res.Reasons = append(res.Reasons, "after the case: "+res.HealthErr.Error())
	}
	return res, nil
}

// Summary is one line saying what the server did: the statuses of its
// answers and whether it closed the connection, and how long after the
// last byte; and where the replayer stopped sending, when it stopped
// early.
func (r *Result) Summary() string {
	o := r.Obs
	var parts []string
	for _, a := range o.Answers {
		parts = append(parts, fmt.Sprintf("%d after %v", a.Status, a.At.Sub(o.LastByte).Round(time.Millisecond)))
	}
	switch {
	case o.Closed:
		parts = append(parts, fmt.Sprintf("closed after %v", o.ClosedAt.Sub(o.LastByte).Round(time.Millisecond)))
	case o.TimedOut:
		parts = append(parts, "no answer")
	case o.Garbled != "":
		parts = append(parts, "garbled")
	}
	if o.Sent < len(r.Sent) {
		parts = append(parts, fmt.Sprintf("stopped sending at byte %d of %d, %v after the start", o.Sent, len(r.Sent), o.LastByte.Sub(o.Start).Round(time.Millisecond)))
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s %s: %s", verdict, r.Case.Name, strings.Join(parts, ", "))
}

// Report describes the result for a test log or a report: the reasons,
// the request sent and what came back, both quoted and cut short.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "case %s (%s): %s\n", r.Case.Name, r.Case.Area, r.Case.Attacks)
	for _, why := range r.Reasons {
		fmt.Fprintf(&b, "  FAIL: %s\n", why)
	}
	fmt.Fprintf(&b, "  sent (%d bytes): %s\n", len(r.Sent), quoteClip(r.Sent, 600))
	o := r.Obs
	for i, a := range o.Answers {
		fmt.Fprintf(&b, "  answer %d after %v: %s %d, %d body bytes: %s\n", i+1, a.At.Sub(o.LastByte).Round(time.Millisecond),
			a.Proto, a.Status, a.BodyLen, quoteClip(a.Body, 300))
	}
	switch {
	case o.Closed:
		fmt.Fprintf(&b, "  closed by the server %v after the last byte\n", o.ClosedAt.Sub(o.LastByte).Round(time.Millisecond))
	case o.TimedOut:
		b.WriteString("  no answer, connection left open\n")
	}
	if o.WriteErr != nil {
		fmt.Fprintf(&b, "  sending stopped after %d of %d bytes: %v\n", o.Sent, len(r.Sent), o.WriteErr)
	}
	return b.String()
}

// quoteClip quotes b as a Go string, cut to n bytes.
func quoteClip(b []byte, n int) string {
	if len(b) <= n {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(b[:n])) + fmt.Sprintf("... (%d bytes in all)", len(b))
}
