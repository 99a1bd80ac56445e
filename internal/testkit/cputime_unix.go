//go:build unix

package testkit

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user and system) the process has used so far,
// 0 where it cannot be read: on a shared machine it is a steadier measure
// of a benchmark's work than wall time. Benchmarks report
// (CPUTime()-before)/b.N.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
