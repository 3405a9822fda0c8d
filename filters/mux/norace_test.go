//go:build !race

package mux_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
