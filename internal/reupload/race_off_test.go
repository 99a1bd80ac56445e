//go:build !race

package reupload

const raceEnabled = false
