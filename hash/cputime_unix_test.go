//go:build unix

package hash

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used so
// far, all threads included. The build machine is shared, so wall-clock
// ns/op moves with other people's load; CPU time per op is what a scan
// worker pays, and it also charges goimagehash for the goroutines its
// resize fans out to.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
