package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsapi-go/wsapi/bench/peers"
)

// The server prints its url and header, serves the variant with them, and
// stops when its context ends.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, peers.Full, "127.0.0.1:0", pw)
		pw.Close()
	}()

	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() && sc.Text() != "ready" {
		k, v, _ := strings.Cut(sc.Text(), "=")
		lines[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // drain until run returns
	url, header := lines["url"], lines["header"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, peers.Path) {
		t.Fatalf("url %q", url)
	}
	name, value, ok := strings.Cut(header, ": ")
	if !ok || name != "Authorization" || !strings.HasPrefix(value, "Bearer ") {
		t.Fatalf("header %q", header)
	}

	for _, tt := range []struct {
		creds bool
		want  int
	}{{true, http.StatusOK}, {false, http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if tt.creds {
			req.Header.Set(name, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || (tt.want == http.StatusOK && string(body) != peers.Body) {
			t.Errorf("with credentials %v: %d %q, want %d", tt.creds, resp.StatusCode, body, tt.want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

func TestRunUnknownVariant(t *testing.T) {
	err := run(context.Background(), "gin", "127.0.0.1:0", io.Discard)
	if !errors.Is(err, peers.ErrUnknownVariant) {
		t.Errorf("run(gin): %v, want ErrUnknownVariant", err)
	}
}

func TestRunBadAddress(t *testing.T) {
	if err := run(context.Background(), peers.Bare, "127.0.0.1:99999", io.Discard); err == nil {
		t.Error("port 99999: no error")
	}
}
