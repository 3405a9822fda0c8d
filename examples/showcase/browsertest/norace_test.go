//go:build !race

package browsertest

// raceEnabled reports whether the test binary runs with the race detector.
const raceEnabled = false
