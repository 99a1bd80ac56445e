package index

import (
	"fmt"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Batches commit in the background while the next one fills (batch.commit).
// These tests pin down what a scan must still see meanwhile: its own
// writes, whether their batch is open, in flight or applied.

func TestScanSeesItsOwnWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int  // Options.BatchFiles
		fresh bool // the dataset is new (no file records to look up)
	}{
		{"every put commits, rescan", 1, false},
		{"every put commits, fresh", 1, true},
		{"two files a batch, rescan", 2, false},
		{"two files a batch, fresh", 2, true},
		{"one batch, rescan", 1000, false},
		{"one batch, fresh", 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, Options{BatchFiles: tc.batch, FlushInterval: time.Minute})
			const n = 10
			if !tc.fresh {
				files := map[string]uint64{}
				for i := range n {
					files[fmt.Sprintf("f%02d", i)] = uint64(i*7 + 1)
				}
				scanFiles(t, s, "d", files, func(uint64) int { return 2 })
			}
			sc, err := s.BeginWrite("d", "/d")
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				p := fmt.Sprintf("f%02d", i)
				f, imgs := fakeFile(p, uint64(100+i), 3)
				if same, err := sc.Unchanged(p, f.Size, f.ModTime); err != nil || same {
					t.Fatalf("%s before its put: Unchanged = %v, %v; want false", p, same, err)
				}
				if err := sc.Put(f, imgs); err != nil {
					t.Fatal(err)
				}
				// Asked again, the scan sees what it just wrote.
				if same, err := sc.Unchanged(p, f.Size, f.ModTime); err != nil || !same {
					t.Fatalf("%s after its put: Unchanged = %v, %v; want true", p, same, err)
				}
				// Replacing it again removes the images just written: Check
				// would find them orphaned otherwise.
				f, imgs = fakeFile(p, uint64(200+i), 1)
				if err := sc.Put(f, imgs); err != nil {
					t.Fatal(err)
				}
			}
			got, err := sc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			want := WriteResult{Files: n, Images: n, Indexed: 2 * n, Unchanged: n}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
			rep := mustCheck(t, s)
			if rep.Files != n || rep.Images != n {
				t.Errorf("Check counts %d files and %d images, want %d and %d", rep.Files, rep.Images, n, n)
			}
		})
	}
}

// TestScanRewritesAcrossBatches writes one path in a batch that goes in
// flight and again in the next, open batch: a third Put must replace the
// second version (the open batch's), not the first (the flight's).
func TestScanRewritesAcrossBatches(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 2, FlushInterval: time.Minute})
	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	put := func(p string, seed uint64, frames int) {
		t.Helper()
		f, imgs := fakeFile(p, seed, frames)
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
	}
	put("x", 1, 1)
	put("p", 2, 2) // the second file: the batch {x, p} commits
	put("p", 3, 3) // opens the next batch
	f, _ := fakeFile("p", 3, 3)
	if same, err := sc.Unchanged("p", f.Size, f.ModTime); err != nil || !same {
		t.Fatalf("Unchanged(p) = %v, %v; want the open batch's version", same, err)
	}
	put("p", 4, 1)
	got, err := sc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if want := (WriteResult{Files: 2, Images: 2, Indexed: 4, Unchanged: 1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	mustCheck(t, s)
}

// TestScanAfterFlush rewrites files after a Flush: the transaction taken
// at that commit may have been begun before the flushed batch was sent, so
// the scan must still find what the batch held.
func TestScanAfterFlush(t *testing.T) {
	for _, fresh := range []bool{true, false} {
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			s := openStore(t, Options{BatchFiles: 1000, FlushInterval: time.Minute})
			if !fresh {
				scanFiles(t, s, "d", map[string]uint64{"a": 1, "b": 2}, func(uint64) int { return 2 })
			}
			sc, err := s.BeginWrite("d", "/d")
			if err != nil {
				t.Fatal(err)
			}
			for round, seed := range []uint64{10, 20, 30} {
				for _, p := range []string{"a", "b"} {
					f, imgs := fakeFile(p, seed, 1+round)
					if err := sc.Put(f, imgs); err != nil {
						t.Fatal(err)
					}
				}
				if err := sc.Flush(); err != nil {
					t.Fatal(err)
				}
				f, _ := fakeFile("a", seed, 1+round)
				if same, err := sc.Unchanged("a", f.Size, f.ModTime); err != nil || !same {
					t.Fatalf("round %d: Unchanged(a) after Flush = %v, %v; want true", round, same, err)
				}
			}
			got, err := sc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if want := (WriteResult{Files: 2, Images: 6, Indexed: 6, Unchanged: 3}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
			mustCheck(t, s)
		})
	}
}

func TestFlushWaitsForCommits(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 2, FlushInterval: time.Minute})
	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	for i := range n {
		f, imgs := fakeFile(fmt.Sprintf("f%d", i), uint64(i), 1)
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, err := range s.Files(t.Context(), "d") {
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Errorf("after Flush a reader sees %d files, want %d", got, n)
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)
}

// TestScanWalkerAndWriter runs a rescan the way the scan pipeline does:
// a walker goroutine asks Unchanged while a writer goroutine Puts, with
// small batches so that commits are in flight throughout (run it with
// -race).
func TestScanWalkerAndWriter(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 3, FlushInterval: time.Minute})
	const n = 300
	frames := func(seed uint64) int { return 1 + int(seed%3) }
	files := map[string]uint64{}
	for i := range n {
		files[fmt.Sprintf("d/%03d", i)] = uint64(i*7 + 1) // never a failure
	}
	scanFiles(t, s, "d", files, frames)

	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		path string
		seed uint64
	}
	jobs := make(chan job, 8)
	var wg sync.WaitGroup
	var walkErr error
	wg.Go(func() {
		defer close(jobs)
		for i := range n {
			p := fmt.Sprintf("d/%03d", i)
			seed := files[p]
			if i%3 == 0 {
				seed += 1000 * 7 // a third of the files changed
			}
			f, _ := fakeFile(p, seed, frames(seed))
			same, err := sc.Unchanged(p, f.Size, f.ModTime)
			if err != nil {
				walkErr = err
				return
			}
			if !same {
				jobs <- job{p, seed}
			}
		}
	})
	wantImages := 0
	for j := range jobs {
		f, imgs := fakeFile(j.path, j.seed, frames(j.seed))
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	for i := range n {
		seed := uint64(i*7 + 1)
		if i%3 == 0 {
			seed += 1000 * 7
		}
		wantImages += frames(seed)
	}
	got, err := sc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	want := WriteResult{Files: n, Images: wantImages, Indexed: n / 3, Unchanged: n - n/3}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	mustCheck(t, s)
}

// TestRescanReadsVolumesWithoutWindows checks that a rescan reads again a
// NIfTI volume whose records predate the window ranges (record version 6),
// and skips it once they are there.
func TestRescanReadsVolumesWithoutWindows(t *testing.T) {
	s := openStore(t, Options{})
	f, imgs := fakeFile("v.nii.gz", 1, 2)
	f.Format = "nifti"
	for i := range imgs {
		imgs[i].Volume = &Volume{Dims: [4]int{64, 64, 2, 1}, Datatype: "int16", Slice: i, T: 0}
	}
	scanWith := func() bool {
		t.Helper()
		sc, err := s.BeginWrite("vol", "/vol")
		if err != nil {
			t.Fatal(err)
		}
		same, err := sc.Unchanged(f.Path, f.Size, f.ModTime)
		if err != nil {
			t.Fatal(err)
		}
		if !same {
			if err := sc.Put(f, imgs); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := sc.Finish(); err != nil {
			t.Fatal(err)
		}
		return same
	}
	scanWith()
	if !scanWith() {
		t.Fatal("a volume written by this version is read again on rescan")
	}
	// Make its first image record what version 5 wrote: no window ranges
	// (they are the record's last field: a count, 0 here).
	fr := lookupFile(t, s, "vol", f.Path)
	key := fr.Images[0].key()
	err := s.db.Update(func(txn *badger.Txn) error {
		v, err := getBytes(txn, key)
		if err != nil {
			return err
		}
		if v[0] != imageRecordV6 || v[len(v)-1] != 0 {
			t.Fatalf("record version %d ending in %d: the test's downgrade no longer fits the encoding", v[0], v[len(v)-1])
		}
		old := append([]byte{imageRecordV5}, v[1:len(v)-1]...)
		if im, _, err := decodeImage(old); err != nil || im.Volume == nil {
			t.Fatalf("the downgraded record does not decode as version 5 with a volume: %v", err)
		}
		return txn.Set(key, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanWith() {
		t.Error("a volume without window ranges was skipped as unchanged")
	}
	if !scanWith() {
		t.Error("the volume rewritten with window ranges is read again")
	}
	mustCheck(t, s)
}

// lookupFile reads the file record of path in dataset name.
func lookupFile(tb testing.TB, s *Store, name, path string) fileRecord {
	tb.Helper()
	rec, err := s.lookupDataset(name)
	if err != nil {
		tb.Fatal(err)
	}
	var fr fileRecord
	err = s.db.View(func(txn *badger.Txn) error {
		v, err := getBytes(txn, fileKey(rec.ID, path))
		if err != nil {
			return err
		}
		fr, err = decodeFile(v, rec.ID)
		return err
	})
	if err != nil {
		tb.Fatalf("file record of %s: %v", path, err)
	}
	return fr
}
