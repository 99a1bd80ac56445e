package scan

import (
	"sync/atomic"
	"time"
)

// Stage is one step of the work on a file.
type Stage int

// The stages a scan measures, in the order a file goes through them.
const (
	StageRead        Stage = iota // reading the file (disk, archive member)
	StageDecode                   // sniffing and decoding to pixels
	StageDigest                   // the file and pixel digests
	StageFingerprint              // the fingerprints, of every rendering, and the preview
	StageWrite                    // writing the records into the index, committing
	numStages
)

var stageNames = [numStages]string{"read", "decode", "digests", "fingerprints", "index write"}

// String names the stage as reports print it.
func (s Stage) String() string { return stageNames[s] }

// Stages accumulates where a scan's time goes when set in Options.Stages:
// `copycat bench scan` reports it per image. A stage's time is the wall
// time spent inside it, summed over the goroutines that run it (the
// workers for the first four, the writer for StageWrite): with several
// workers the stages add up to more than the scan's wall time, and on a
// busy machine a stage's time includes waiting for a CPU. A scan without
// Stages reads no clock for it.
type Stages struct {
	ns     [numStages]atomic.Int64
	files  atomic.Int64
	images atomic.Int64
}

// Time returns the time spent in stage s so far.
func (s *Stages) Time(st Stage) time.Duration { return time.Duration(s.ns[st].Load()) }

// Files returns the files the workers processed.
func (s *Stages) Files() int64 { return s.files.Load() }

// Images returns the images (frames) fingerprinted.
func (s *Stages) Images() int64 { return s.images.Load() }

// stageTimer times consecutive stages with one clock read each. Its zero
// value, or one started from nil Stages, measures nothing.
type stageTimer struct {
	s *Stages
	t time.Time
}

func (s *Stages) start() stageTimer {
	if s == nil {
		return stageTimer{}
	}
	return stageTimer{s: s, t: time.Now()}
}

// lap charges the time since the last lap to stage st.
func (t *stageTimer) lap(st Stage) {
	if t.s == nil {
		return
	}
	now := time.Now()
	t.s.ns[st].Add(int64(now.Sub(t.t)))
	t.t = now
}
