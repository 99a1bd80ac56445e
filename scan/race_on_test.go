//go:build race

package scan

// raceEnabled skips measurement studies under the race detector.
const raceEnabled = true
