//go:build race

package hash

// raceEnabled: the race detector slows pixel loops about tenfold, so the
// corpus-wide measurement tests run in the plain build only (make test runs
// them there).
const raceEnabled = true
