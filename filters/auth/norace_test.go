//go:build !race

package auth_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
