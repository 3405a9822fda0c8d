package auth_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/filters/auth"
)

func TestDenialRetrySeconds(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  int
	}{
		{0, 1},
		{time.Second, 1},
		{time.Second + time.Millisecond, 2},
		{2 * time.Second, 2},
		{14 * time.Minute, 840},
	} {
		if got := (auth.Denial{RetryAfter: tt.after}).RetrySeconds(); got != tt.want {
			t.Errorf("RetryAfter %v: %d seconds, want %d", tt.after, got, tt.want)
		}
	}
}

func TestDenialSetHeaders(t *testing.T) {
	challenges := []string{`Bearer realm="app"`, `Basic realm="app", charset="UTF-8"`}
	for _, tt := range []struct {
		name   string
		d      auth.Denial
		status int
		want   http.Header
	}{
		{"a browser is sent to log in", auth.Denial{Status: 401, Challenges: challenges, LoginURL: "/login?next=%2Fa"}, 303,
			http.Header{"Cache-Control": {"no-store"}, "Location": {"/login?next=%2Fa"}}},
		{"401 with the challenges", auth.Denial{Status: 401, Challenges: challenges}, 401,
			http.Header{"Cache-Control": {"no-store"}, "Www-Authenticate": challenges}},
		{"429 with Retry-After", auth.Denial{Status: 429, RetryAfter: 1500 * time.Millisecond}, 429,
			http.Header{"Cache-Control": {"no-store"}, "Retry-After": {"2"}}},
		{"403 with no more", auth.Denial{Status: 403, Challenges: challenges}, 403,
			http.Header{"Cache-Control": {"no-store"}}},
	} {
		h := http.Header{}
		if status := tt.d.SetHeaders(h); status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, status, tt.status)
		}
		if len(h) != len(tt.want) {
			t.Errorf("%s: headers %v, want %v", tt.name, h, tt.want)
		}
		for k, v := range tt.want {
			if !slices.Equal(h[k], v) {
				t.Errorf("%s: %s = %q, want %q", tt.name, k, h[k], v)
			}
		}
	}
}
