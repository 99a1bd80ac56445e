//go:build !(linux || darwin || freebsd)

package scan

// freeSpace is not measured here: the scan goes on unguarded.
func freeSpace(string) (uint64, bool) { return 0, false }

// writable leaves permission problems for the index to report.
func writable(string) error { return nil }

// virtualFS is not detected on this platform.
func virtualFS(string) bool { return false }
