//go:build !race

package upload_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
