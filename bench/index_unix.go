//go:build unix

package bench

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dirSize sums the disk space allocated to the files under dir (a sparse
// file counts what it occupies, not its length).
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// peakRSS is the process's maximum resident set size so far, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there
	}
	return int64(ru.Maxrss) * 1024 // kilobytes on Linux and the BSDs
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssNow returns the process's resident memory split into anonymous
// (heap, stacks) and file-backed (memory-mapped files, such as Badger's
// value log, which the kernel can drop) bytes, from /proc/self/status; zero
// where that file does not exist.
func rssNow() (anon, file int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "RssAnon:":
			anon = kb * 1024
		case "RssFile:", "RssShmem:":
			file += kb * 1024
		}
	}
	return anon, file
}

// resetPeakRSS restarts the peak resident set size that peakRSSSinceReset
// reads, so that each contender of a benchmark gets its own peak. Linux
// only (/proc/self/clear_refs); elsewhere it reports false and the peak
// stays the process's.
func resetPeakRSS() bool {
	debug.FreeOSMemory() // what the previous contender left is garbage now: out of RSS with it
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSSSinceReset is the peak resident set size since resetPeakRSS (the
// process's peak where that cannot be reset).
func peakRSSSinceReset() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return peakRSS()
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return peakRSS()
}
