package index

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rssFile is the process's file-backed resident memory, in bytes.
func rssFile(tb testing.TB) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	tb.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestPageOut writes enough images to fill several value-log files and
// checks that pageOut takes their pages out of the process's RSS, and that
// the records read back intact afterwards.
func TestPageOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(dir), &st); err == nil && st.Type == 0x01021994 {
		t.Skip("TMPDIR is a tmpfs: its pages can only be paged out to swap")
	}
	if raceEnabled {
		t.Skip("writing 100,000 images takes minutes under -race; make test runs it in its plain pass")
	}
	// No page-out goroutine: the test calls pageOut itself. 100,000 images
	// fill two 64 MB value-log files and start a third, the one pageOut
	// leaves.
	s := openStoreAt(t, dir, Options{BatchFiles: 512, FlushInterval: time.Minute})
	close(s.pageOutStop)
	<-s.pageOutDone
	s.pageOutStop = nil
	files := map[string]uint64{}
	for i := range 100000 {
		files["f/"+strconv.Itoa(i)] = uint64(i)
	}
	scanFiles(t, s, "big", files, func(uint64) int { return 1 })
	abs, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := rssFile(t)
	if err := pageOut(abs); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("the kernel has no MADV_PAGEOUT")
	} else if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("file-backed RSS: %.1f MB before pageOut, %.1f MB after", float64(before)/(1<<20), float64(after)/(1<<20))
	if before < 32<<20 {
		t.Fatalf("only %.1f MB file-backed RSS after writing 100,000 images: the test writes too little", float64(before)/(1<<20))
	}
	if before-after < 64<<20 {
		t.Errorf("pageOut left %.1f of %.1f MB resident", float64(after)/(1<<20), float64(before)/(1<<20))
	}
	mustCheck(t, s)
}
