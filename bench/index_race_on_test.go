//go:build race

package bench

// raceEnabled is true when the tests run under the race detector, which
// makes decoding the whole corpus too slow for the test budget.
const raceEnabled = true
