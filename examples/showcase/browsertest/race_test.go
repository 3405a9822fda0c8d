//go:build race

package browsertest

// raceEnabled reports whether the test binary runs with the race detector;
// the showcase is then built with it too.
const raceEnabled = true
