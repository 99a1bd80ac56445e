//go:build race

package main

// raceEnabled skips the process-level scan test under the race detector
// (a corpus scan there takes a minute); make test runs it without.
const raceEnabled = true
