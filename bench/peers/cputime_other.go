//go:build !unix

package peers

import "time"

// CPUTime returns 0: the CPU time of the process is measured on Unix
// systems only.
func CPUTime() time.Duration { return 0 }
