//go:build !race

package index

// raceEnabled is true when the tests run under -race.
const raceEnabled = false
