package filtertest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsapi-go/wsapi/filter/filtertest"
)

func TestAbilitiesString(t *testing.T) {
	tests := []struct {
		a    filtertest.Abilities
		want string
	}{
		{0, "none"},
		{filtertest.Flusher, "Flusher"},
		{filtertest.Hijacker | filtertest.Pusher, "Hijacker|Pusher"},
		{filtertest.AllAbilities, "Flusher|Hijacker|ReaderFrom|Pusher"},
		{filtertest.ReaderFrom | 0x30, "ReaderFrom|0x30"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Abilities(%d).String() = %q, want %q", uint8(tt.a), got, tt.want)
		}
	}
}

func TestAbilitiesHas(t *testing.T) {
	a := filtertest.Flusher | filtertest.ReaderFrom
	if !a.Has(filtertest.Flusher) || !a.Has(filtertest.Flusher|filtertest.ReaderFrom) || !a.Has(0) {
		t.Errorf("%v.Has misses what it has", a)
	}
	if a.Has(filtertest.Hijacker) || a.Has(filtertest.Flusher|filtertest.Pusher) {
		t.Errorf("%v.Has claims what it lacks", a)
	}
}

func TestAbilitiesOfKnownWriters(t *testing.T) {
	tests := []struct {
		name string
		w    http.ResponseWriter
		want filtertest.Abilities
	}{
		{"httptest's recorder can only flush", httptest.NewRecorder(), filtertest.Flusher},
		{"a bare wrapper has nothing", struct{ http.ResponseWriter }{httptest.NewRecorder()}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := filtertest.AbilitiesOf(tt.w); got != tt.want {
				t.Errorf("AbilitiesOf = %v, want %v", got, tt.want)
			}
		})
	}
}
