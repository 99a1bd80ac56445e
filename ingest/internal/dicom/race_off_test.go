//go:build !race

package dicom

const raceEnabled = false
