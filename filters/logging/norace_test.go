//go:build !race

package logging

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
