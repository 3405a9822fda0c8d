//go:build !race

package peers

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
