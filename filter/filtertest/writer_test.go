package filtertest_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestNewWriterHasExactlyTheChosenAbilities(t *testing.T) {
	for ab := range filtertest.AllAbilities + 1 {
		t.Run(ab.String(), func(t *testing.T) {
			rec, w := filtertest.NewWriter(ab)
			if got := filtertest.AbilitiesOf(w); got != ab {
				t.Fatalf("AbilitiesOf = %v, want %v", got, ab)
			}
			// ResponseController must not find abilities the writer lacks.
			err := http.NewResponseController(w).Flush()
			if ab.Has(filtertest.Flusher) != (err == nil) {
				t.Errorf("ResponseController.Flush() = %v with %v", err, ab)
			}
			if err != nil && !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("ResponseController.Flush() = %v, want ErrNotSupported", err)
			}
			w.Write([]byte("abc"))
			if rec.Body.String() != "abc" {
				t.Errorf("Body = %q", rec.Body.String())
			}
		})
	}
}

func TestNewWriterRecordsEachAbility(t *testing.T) {
	rec, w := filtertest.NewWriter(filtertest.AllAbilities)
	w.(http.Pusher).Push("/app.css", nil)
	w.(http.Flusher).Flush()
	n, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("file!"))
	if n != 5 || err != nil {
		t.Errorf("ReadFrom = %d, %v", n, err)
	}
	if got, want := rec.String(), "push /app.css, header 200, flush, readfrom 5"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	if rec.Body.String() != "file!" {
		t.Errorf("Body = %q", rec.Body.String())
	}
}

func TestNewWriterHijackGivesAWorkingConnection(t *testing.T) {
	rec, w := filtertest.NewWriter(filtertest.Hijacker)
	if rec.ClientConn() != nil {
		t.Error("ClientConn before a hijack is not nil")
	}
	conn, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := rec.ClientConn()
	if client == nil {
		t.Fatal("ClientConn after a hijack is nil")
	}
	defer client.Close()
	go func() {
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
		brw.Flush()
	}()
	line := make([]byte, len("HTTP/1.1 101"))
	if _, err := io.ReadFull(client, line); err != nil || string(line) != "HTTP/1.1 101" {
		t.Errorf("client read %q, %v", line, err)
	}
	if !rec.Hijacked() || rec.String() != "hijack" {
		t.Errorf("Hijacked = %v, events %q", rec.Hijacked(), rec.String())
	}
	if _, _, err := w.(http.Hijacker).Hijack(); !errors.Is(err, http.ErrHijacked) {
		t.Errorf("second Hijack: %v, want ErrHijacked", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
		t.Errorf("Write after Hijack: %v, want ErrHijacked", err)
	}
	if rec.String() != "hijack" {
		t.Errorf("events after failed writes = %q", rec.String())
	}
}
