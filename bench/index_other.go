//go:build !unix

package bench

import (
	"io/fs"
	"path/filepath"
	"time"
)

// dirSize sums the lengths of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

// peakRSS is not measured on this platform.
func peakRSS() int64 { return 0 }

// cpuTime is not measured on this platform.
func cpuTime() time.Duration { return 0 }

// rssNow is not measured on this platform.
func rssNow() (anon, file int64) { return 0, 0 }

// resetPeakRSS cannot reset the peak on this platform.
func resetPeakRSS() bool { return false }

// peakRSSSinceReset is not measured on this platform.
func peakRSSSinceReset() int64 { return 0 }
