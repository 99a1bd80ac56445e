package reupload

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvVolumes names the environment variable that overrides where
// FindVolumes looks: a folder holding ch2better.nii.gz (and, optionally,
// inia19-t1-brain.nii.gz).
const EnvVolumes = "COPYCAT_VOLUMES"

// DefaultVolumesDir is where Debian's mricron-data package installs its
// templates (`make deps` installs it).
const DefaultVolumesDir = "/usr/share/mricron/templates"

// The volumes used, by file name. ch2.nii.gz and ch2bet.nii.gz are the
// same subject as ch2better: they are never a "distinct" series.
const (
	// MainFile is the Colin 27 T1 brain MRI (0.5 mm voxels), the main
	// series.
	MainFile = "ch2better.nii.gz"
	// SecondFile is the INIA19 primate T1 template: a different subject.
	SecondFile = "inia19-t1-brain.nii.gz"
)

// Volume identifiers in the truth manifest.
const (
	VolumeMain   = "ch2better"
	VolumeSecond = "inia19"
)

// ErrNoVolumes is returned by FindVolumes when the MRI volumes are absent.
var ErrNoVolumes = errors.New("reupload: MRI volumes not found")

// Volumes are the NIfTI files a scenario is built from.
type Volumes struct {
	Dir    string
	Main   string // path of ch2better.nii.gz
	Second string // path of inia19-t1-brain.nii.gz, "" when absent
}

// FindVolumes looks for the volumes in dir, else in $COPYCAT_VOLUMES, else
// in DefaultVolumesDir. The main volume is required; the second one is
// optional (the scenario then has no primate datasets).
func FindVolumes(dir string) (Volumes, error) {
	if dir == "" {
		dir = os.Getenv(EnvVolumes)
	}
	if dir == "" {
		dir = DefaultVolumesDir
	}
	v := Volumes{Dir: dir, Main: filepath.Join(dir, MainFile)}
	if _, err := os.Stat(v.Main); err != nil {
		return Volumes{}, fmt.Errorf("%w: no %s in %s (install Debian's mricron-data with `make deps`, or set %s to a folder holding it)",
			ErrNoVolumes, MainFile, dir, EnvVolumes)
	}
	if p := filepath.Join(dir, SecondFile); fileExists(p) {
		v.Second = p
	}
	return v, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// cut is testdata/ch2better-cut.nii.gz, 32 axial slices of ch2better 1 mm
// apart at full in-plane resolution, written by ./cutgen (see the
// generate directive in doc.go). It is embedded so that `copycat bench quality` runs
// anywhere; its licence is testdata/NOTICE.
//
//go:embed testdata/ch2better-cut.nii.gz
var cut []byte

// CutVolume returns the shipped cut of ch2better: 32 axial slices, 1 mm
// apart, with brain content.
func CutVolume() (*Volume, error) {
	v, err := ReadNIfTI(bytes.NewReader(cut))
	if err != nil {
		return nil, fmt.Errorf("read the embedded ch2better cut: %w", err)
	}
	return v, nil
}
