//go:build race

package upload_test

// raceEnabled reports whether the race detector is on: it changes what
// allocates, so tests that count allocations skip themselves.
const raceEnabled = true
