package scan

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestScanCancelAtRandomPoints cancels scans with 1, 4 and 16 workers at
// random moments (from before the first file to after the last) and checks
// after each: the scan says it was interrupted (or finished), no goroutine
// is left behind, the index opens and passes Check, and a rescan finishes
// with every file counted once. It uses the project's own fixtures, so it
// runs without ../shared, and under -race in make test.
func TestScanCancelAtRandomPoints(t *testing.T) {
	src := filepath.Join(testkit.ModuleRoot(t), "testdata", "demo", "original")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	// 16 copies of the fixtures under other names: enough files for the
	// workers to be busy when the cancellation comes.
	data := t.TempDir()
	files := 0
	for i := range 16 {
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, fmt.Sprintf("%02d-%s", i, e.Name())), b, 0o644); err != nil {
				t.Fatal(err)
			}
			files++
		}
	}
	ds := []Dataset{{Name: "d", Path: data}}
	// A full scan's duration sets the range of the random delays.
	start := time.Now()
	full, err := runIn(context.Background(), t.TempDir(), Options{Workers: 2}, ds)
	if err != nil {
		t.Fatal(err)
	}
	span := time.Since(start)
	want := full.Datasets[0]
	if want.Files != int64(files) {
		t.Fatalf("full scan: %d files, want %d", want.Files, files)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	trials := 12
	if raceEnabled {
		trials = 6 // each scan is several times slower
	}
	for trial := range trials {
		workers := []int{1, 4, 16}[trial%3]
		delay := time.Duration(rng.Int64N(int64(span) * 5 / 4))
		if trial == 0 {
			delay = 0 // cancelled before it starts
		}
		t.Run(fmt.Sprintf("workers=%d/delay=%v", workers, delay.Round(time.Microsecond)), func(t *testing.T) {
			idx := t.TempDir()
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			if delay == 0 {
				cancel()
			} else {
				timer := time.AfterFunc(delay, cancel)
				defer timer.Stop()
			}
			sum, err := runIn(ctx, idx, Options{Workers: workers}, ds)
			cancel()
			switch {
			case errors.Is(err, context.Canceled):
				if sum == nil || !sum.Interrupted {
					t.Errorf("cancelled scan: summary %+v, want Interrupted", sum)
				}
			case err != nil:
				t.Fatalf("scan: %v", err)
			}
			waitGoroutines(t, before)

			st, err := index.Open(idx, index.Options{})
			if err != nil {
				t.Fatalf("open after cancel: %v", err)
			}
			rep, err := st.Check(context.Background())
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil || !rep.OK() {
				t.Fatalf("check after cancel: %v %v", err, rep.Problems)
			}

			again, err := runIn(context.Background(), idx, Options{Workers: workers}, ds)
			if err != nil {
				t.Fatalf("rescan: %v", err)
			}
			got := again.Datasets[0]
			if got.Files != want.Files || got.Images != want.Images || got.FailedTotal != want.FailedTotal || got.Removed != 0 {
				t.Errorf("rescan after cancel: files %d images %d failed %d removed %d, want %d %d %d 0",
					got.Files, got.Images, got.FailedTotal, got.Removed, want.Files, want.Images, want.FailedTotal)
			}
			t.Logf("cancelled scan had done %d files; rescan: %d unchanged", rep.Files, got.Unchanged)
		})
	}
}

// waitGoroutines fails the test if more goroutines than before are still
// running a few seconds after a scan returned.
func waitGoroutines(tb testing.TB, before int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		tb.Errorf("%d goroutines after the scan, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
