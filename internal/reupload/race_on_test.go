//go:build race

package reupload

// raceEnabled is true under the race detector, which makes generating a
// scenario (resizes, JPEG and PNG encoding) too slow for the test budget:
// `make test` runs this package's tests without it too.
const raceEnabled = true
