//go:build !unix

package hash

import "time"

// processCPU is not measured on this platform; benchmarks then report
// wall-clock time only.
func processCPU() time.Duration { return 0 }
