//go:build !race

package wsapi_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
