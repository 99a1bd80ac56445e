//go:build race

package dicom

// raceEnabled lets corpus-wide tests decode fewer frames under the race
// detector, which slows pixel loops tenfold; the plain run decodes them all.
const raceEnabled = true
