package filtertest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

//go:generate go run gen_compose.go

// Abilities is a set of the optional interfaces a [http.ResponseWriter]
// may have besides its three methods: [Flusher], [Hijacker], [ReaderFrom]
// and [Pusher]. A filter's writer wrapper must keep exactly the abilities of
// the writer it wraps: hiding one breaks server-sent events, WebSockets or
// sendfile; claiming one it lacks makes a caller's type assertion lie.
type Abilities uint8

const (
	// Flusher is [http.Flusher].
	Flusher Abilities = 1 << iota
	// Hijacker is [http.Hijacker].
	Hijacker
	// ReaderFrom is [io.ReaderFrom], which io.Copy uses for sendfile.
	ReaderFrom
	// Pusher is [http.Pusher], for HTTP/2 server push.
	Pusher

	// AllAbilities is the set of all four abilities.
	AllAbilities = Flusher | Hijacker | ReaderFrom | Pusher
)

// abilityNames are the names String uses, in bit order.
var abilityNames = [...]string{"Flusher", "Hijacker", "ReaderFrom", "Pusher"}

// AbilitiesOf reports which of the four optional interfaces w implements.
func AbilitiesOf(w http.ResponseWriter) Abilities {
	var a Abilities
	if _, ok := w.(http.Flusher); ok {
		a |= Flusher
	}
	if _, ok := w.(http.Hijacker); ok {
		a |= Hijacker
	}
	if _, ok := w.(io.ReaderFrom); ok {
		a |= ReaderFrom
	}
	if _, ok := w.(http.Pusher); ok {
		a |= Pusher
	}
	return a
}

// Has reports whether a includes every ability in b.
func (a Abilities) Has(b Abilities) bool { return a&b == b }

// String returns the names of the abilities joined with "|", such as
// "Flusher|Hijacker", or "none" for the empty set.
func (a Abilities) String() string {
	if a == 0 {
		return "none"
	}
	var names []string
	for i, name := range abilityNames {
		if a&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if rest := a &^ AllAbilities; rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(names, "|")
}

// fullWriter is a writer with all four abilities. The generated compose
// functions return it behind a writer that shows only the chosen ones.
type fullWriter interface {
	http.ResponseWriter
	http.Flusher
	http.Hijacker
	io.ReaderFrom
	http.Pusher
}

// unwrapWriter is a fullWriter that wraps another writer and says which,
// for [http.ResponseController].
type unwrapWriter interface {
	fullWriter
	Unwrap() http.ResponseWriter
}

// unwrapCore is the part of an unwrapWriter that every writer
// composeUnwrap returns keeps, whatever its abilities.
type unwrapCore interface {
	http.ResponseWriter
	Unwrap() http.ResponseWriter
}
