//go:build !race

package isolate_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
