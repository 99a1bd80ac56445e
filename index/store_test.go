package index

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/hash"
)

// openStore opens a writable store in a fresh temporary directory.
func openStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	return openStoreAt(tb, tb.TempDir(), opts)
}

func openStoreAt(tb testing.TB, dir string, opts Options) *Store {
	tb.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// fakeFingerprint is a fingerprint with a random pHash and a thumbnail made
// from a seed, so that equal seeds give equal pictures.
func fakeFingerprint(seed uint64) hash.Fingerprint {
	rng := rand.New(rand.NewPCG(seed, 77))
	var fp hash.Fingerprint
	fp.PHash = rng.Uint64()
	fp.DHash = rng.Uint64()
	fp.AHash = rng.Uint64()
	for i := range fp.PDQ {
		fp.PDQ[i] = byte(rng.Uint32())
	}
	fp.PDQQuality = 80
	fp.Dihedral[0] = fp.PHash
	for i := 1; i < 8; i++ {
		fp.Dihedral[i] = rng.Uint64()
	}
	// A smooth picture: a few random blobs.
	type blob struct{ x, y, r, v float64 }
	var blobs [6]blob
	for i := range blobs {
		blobs[i] = blob{rng.Float64() * 32, rng.Float64() * 32, 3 + rng.Float64()*8, 40 + rng.Float64()*200}
	}
	for y := range hash.ThumbSize {
		for x := range hash.ThumbSize {
			v := 20.0
			for _, b := range blobs {
				dx, dy := float64(x)-b.x, float64(y)-b.y
				if dx*dx+dy*dy < b.r*b.r {
					v = b.v
				}
			}
			fp.Thumb[y*hash.ThumbSize+x] = uint8(v)
		}
	}
	return fp
}

// fakeImage is frame frame of a file whose content is identified by seed.
func fakeImage(seed uint64, frame int) Image {
	return Image{
		Frame:          frame,
		Format:         "dicom",
		Width:          512,
		Height:         512,
		Bits:           12,
		Photometric:    "MONOCHROME2",
		FileSize:       1000 + int64(seed),
		FileSHA256:     sha256.Sum256(fmt.Appendf(nil, "file %d", seed)),
		PixelSHA256:    sha256.Sum256(fmt.Appendf(nil, "pixels %d/%d", seed, frame)),
		TransferSyntax: "1.2.840.10008.1.2.1",
		SOPInstanceUID: fmt.Sprintf("1.2.3.%d", seed),
		Modality:       "CT",
		Fingerprint:    fakeFingerprint(seed*1000 + uint64(frame)),
		MinMax:         fakeMinMax(seed, frame),
	}
}

// fakeMinMax gives every other seed's frames a min-max fingerprint, so that
// the store tests (rescans, forgets, crashes) also write and delete W keys.
func fakeMinMax(seed uint64, frame int) *hash.Fingerprint {
	if seed%2 != 0 {
		return nil
	}
	fp := fakeFingerprint(seed*1000 + uint64(frame) + 500_000)
	return &fp
}

// fakeFile returns a file record and its frames.
func fakeFile(path string, seed uint64, frames int) (File, []Image) {
	f := File{
		Path:    path,
		Size:    1000 + int64(seed),
		ModTime: time.Unix(1_700_000_000+int64(seed), 123456789),
		SHA256:  sha256.Sum256(fmt.Appendf(nil, "file %d", seed)),
		Format:  "dicom",
		Frames:  frames,
	}
	imgs := make([]Image, frames)
	for i := range imgs {
		imgs[i] = fakeImage(seed, i)
	}
	return f, imgs
}

// mustCheck fails the test if the index is inconsistent.
func mustCheck(tb testing.TB, s *Store) CheckReport {
	tb.Helper()
	rep, err := s.Check(context.Background())
	if err != nil {
		tb.Fatalf("Check: %v", err)
	}
	if !rep.OK() {
		tb.Fatalf("index inconsistent:\n%s", strings.Join(rep.Problems, "\n"))
	}
	return rep
}

func datasetInfo(tb testing.TB, s *Store, name string) DatasetInfo {
	tb.Helper()
	ds, err := s.Datasets(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range ds {
		if d.Name == name {
			return d
		}
	}
	tb.Fatalf("dataset %q not listed", name)
	return DatasetInfo{}
}

func TestOpenSaltPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	salt := slices.Clone(s.Salt())
	if len(salt) != SaltSize {
		t.Fatalf("salt has %d bytes, want %d", len(salt), SaltSize)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		s, err := Open(dir, Options{ReadOnly: ro})
		if err != nil {
			t.Fatalf("reopen (read-only %v): %v", ro, err)
		}
		if got := s.Salt(); !slices.Equal(got, salt) {
			t.Errorf("reopen (read-only %v): salt changed", ro)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	other := openStore(t, Options{})
	if slices.Equal(other.Salt(), salt) {
		t.Error("two indexes got the same salt")
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"), Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "copycat scan") {
		t.Fatalf("read-only open of a missing index: err = %v, want a hint to scan first", err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	lockPath := filepath.Join(dir, LockFileName)
	w := openStoreAt(t, dir, Options{})

	tests := []struct {
		name     string
		readOnly bool
		wantMsg  string
	}{
		{"second writer", false, "locked by another copycat scan"},
		{"reader while writing", true, "being written by another copycat scan"},
	}
	for _, tc := range tests {
		_, err := Open(dir, Options{ReadOnly: tc.readOnly})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("%s: err = %v, want ErrLocked", tc.name, err)
		}
		if got := err.Error(); !strings.Contains(got, lockPath) || !strings.Contains(got, tc.wantMsg) {
			t.Errorf("%s: message %q should name %s and say %q", tc.name, got, lockPath, tc.wantMsg)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r1 := openStoreAt(t, dir, Options{ReadOnly: true})
	r2 := openStoreAt(t, dir, Options{ReadOnly: true})
	_, err := Open(dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || !le.Readers {
		t.Fatalf("writer while readers: err = %v, want a LockedError naming readers", err)
	}
	if _, err := r1.BeginWrite("x", "/x"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("BeginWrite on a read-only store: err = %v, want ErrReadOnly", err)
	}
	_ = r1.Close()
	_ = r2.Close()
	w2 := openStoreAt(t, dir, Options{})
	_ = w2.Close()
}

// TestLockWait opens with Wait while another store holds the index: the
// open is told once that it waits, returns when the holder closes, and a
// cancelled context ends the wait with the context's error.
func TestLockWait(t *testing.T) {
	tests := []struct {
		name             string
		holder, readOnly bool // the holder writes (true) or reads; the waiter reads
	}{
		{"reader waits for a writer", true, true},
		{"writer waits for a writer", true, false},
		{"writer waits for a reader", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openStoreAt(t, dir, Options{})
			if !tt.holder {
				_ = w.Close()
				w = openStoreAt(t, dir, Options{ReadOnly: true})
			}
			waiting := make(chan *LockedError, 2)
			type result struct {
				st  *Store
				err error
			}
			done := make(chan result, 1)
			go func() {
				st, err := OpenContext(context.Background(), dir, Options{ReadOnly: tt.readOnly, Wait: true,
					Waiting: func(le *LockedError) { waiting <- le }})
				done <- result{st, err}
			}()
			select {
			case le := <-waiting:
				if le.Dir != dir {
					t.Errorf("waiting for %q, want %q", le.Dir, dir)
				}
			case r := <-done:
				t.Fatalf("open returned while the index was held: %v", r.err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatalf("open after the holder closed: %v", r.err)
			}
			if len(waiting) != 0 {
				t.Errorf("Waiting called %d more times, want once", len(waiting))
			}
			_ = r.st.Close()
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		dir := t.TempDir()
		w := openStoreAt(t, dir, Options{})
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := OpenContext(ctx, dir, Options{ReadOnly: true, Wait: true, Waiting: func(*LockedError) { cancel() }})
			done <- err
		}()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// scanFiles runs one complete scan: unchanged files are confirmed, the
// others put.
func scanFiles(tb testing.TB, s *Store, name string, files map[string]uint64, frames func(seed uint64) int) WriteResult {
	tb.Helper()
	sc, err := s.BeginWrite(name, "/data/"+name)
	if err != nil {
		tb.Fatal(err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := scanOne(sc, p, files[p], frames(files[p])); err != nil {
			tb.Fatal(err)
		}
	}
	res, err := sc.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// scanOne is what a scan does with one file: skip it if unchanged, else
// put it (seeds with seed%7 == 3 stand for files that fail to decode).
func scanOne(sc *Writer, p string, seed uint64, frames int) error {
	f, imgs := fakeFile(p, seed, frames)
	same, err := sc.Unchanged(p, f.Size, f.ModTime)
	if err != nil || same {
		return err
	}
	if seed%7 == 3 {
		f.Failure = "corrupt dicom: truncated"
		f.Frames = 0
		imgs = nil
	}
	return sc.Put(f, imgs)
}

func TestRescan(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 7})
	frames := func(seed uint64) int { return 1 + int(seed%3) }
	files := map[string]uint64{}
	for i := range 40 {
		files[fmt.Sprintf("series/%03d.dcm", i)] = uint64(i)
	}
	wantFailures := 0
	wantImages := 0
	for _, seed := range files {
		if seed%7 == 3 {
			wantFailures++
		} else {
			wantImages += frames(seed)
		}
	}
	got := scanFiles(t, s, "ct", files, frames)
	want := WriteResult{Files: 40, Images: wantImages, Failures: wantFailures, Indexed: 40}
	if got != want {
		t.Fatalf("first scan: got %+v, want %+v", got, want)
	}
	mustCheck(t, s)

	// Unchanged: nothing is processed again.
	got = scanFiles(t, s, "ct", files, frames)
	want = WriteResult{Files: 40, Images: wantImages, Failures: wantFailures, Unchanged: 40}
	if got != want {
		t.Fatalf("unchanged rescan: got %+v, want %+v", got, want)
	}

	// One file changed (new seed: new size, mtime and content), two gone,
	// one new.
	files["series/000.dcm"] = 1000 // 1000%3 == 1: two frames instead of one
	delete(files, "series/001.dcm")
	delete(files, "series/003.dcm") // a failed one
	files["series/new.dcm"] = 2000  // 2000%3 == 2: three frames
	got = scanFiles(t, s, "ct", files, frames)
	wantImages += -1 + 2 - frames(1) + frames(2000)
	want = WriteResult{Files: 39, Images: wantImages, Failures: wantFailures - 1, Indexed: 2, Unchanged: 37, Removed: 2}
	if got != want {
		t.Fatalf("rescan after changes: got %+v, want %+v", got, want)
	}
	rep := mustCheck(t, s)
	if rep.Images != wantImages || rep.Files != 39 {
		t.Errorf("Check counts %d files, %d images; want 39, %d", rep.Files, rep.Images, wantImages)
	}
	info := datasetInfo(t, s, "ct")
	if info.Files != 39 || info.Images != wantImages || info.Failures != wantFailures-1 || !info.Complete || info.LastScan.IsZero() {
		t.Errorf("Datasets() = %+v", info)
	}
	// The changed file's old frame is gone, its new frames are there.
	var paths []string
	for im, err := range s.Images(t.Context(), "ct") {
		if err != nil {
			t.Fatal(err)
		}
		if im.Path == "series/000.dcm" {
			paths = append(paths, fmt.Sprintf("%s#%d", im.Path, im.Frame))
			if im.FileSize != 2000 {
				t.Errorf("changed file's image has the old size %d", im.FileSize)
			}
		}
	}
	if want := []string{"series/000.dcm#0", "series/000.dcm#1"}; !slices.Equal(paths, want) {
		t.Errorf("images of the changed file: got %v, want %v", paths, want)
	}
	var failed []string
	for f, err := range s.Failures(t.Context(), "ct") {
		if err != nil {
			t.Fatal(err)
		}
		failed = append(failed, f.Path)
		if f.Failure == "" || f.Dataset != "ct" {
			t.Errorf("failure record %+v", f)
		}
	}
	if len(failed) != wantFailures-1 {
		t.Errorf("Failures lists %d files, want %d", len(failed), wantFailures-1)
	}
}

func TestInterruptedScanCompletesNextTime(t *testing.T) {
	dir := t.TempDir()
	s := openStoreAt(t, dir, Options{BatchFiles: 3})
	frames := func(uint64) int { return 2 }
	files := map[string]uint64{}
	for i := range 20 {
		files[fmt.Sprintf("f%02d", i)] = uint64(i*7 + 1) // never a failure
	}
	scanFiles(t, s, "d", files, frames)

	// A second scan sees half the files (one of them changed) and stops.
	files["f00"] = 500
	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p := fmt.Sprintf("f%02d", i)
		f, imgs := fakeFile(p, files[p], 2)
		if same, err := sc.Unchanged(p, f.Size, f.ModTime); err != nil || same != (i != 0) {
			t.Fatalf("Unchanged(%s) = %v, %v", p, same, err)
		}
		if i == 0 {
			if err := sc.Put(f, imgs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if info := datasetInfo(t, s, "d"); info.Complete || info.Files != 20 || info.Images != 40 {
		t.Errorf("after an interrupted scan: %+v, want incomplete with the old counts", info)
	}
	mustCheck(t, s)
	// Nothing was removed by the interrupted scan.
	n := 0
	for _, err := range s.Files(t.Context(), "d") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 20 {
		t.Errorf("after an interrupted scan the dataset has %d files, want 20", n)
	}
	got := scanFiles(t, s, "d", files, frames)
	want := WriteResult{Files: 20, Images: 40, Unchanged: 20}
	if got != want {
		t.Errorf("completing scan: got %+v, want %+v", got, want)
	}
	mustCheck(t, s)
}

func TestPutReplacesWithinOneBatch(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 100})
	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 2, 3} {
		f, imgs := fakeFile("same/path.dcm", seed, int(seed))
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
	}
	res, err := sc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 1 || res.Images != 3 {
		t.Errorf("got %+v, want 1 file with 3 images", res)
	}
	mustCheck(t, s)
}

func TestScanBusyAndClosed(t *testing.T) {
	s := openStore(t, Options{})
	sc, err := s.BeginWrite("a", "/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginWrite("b", "/b"); !errors.Is(err, ErrBusy) {
		t.Errorf("second BeginWrite: err = %v, want ErrBusy", err)
	}
	if err := s.Forget(t.Context(), "a"); !errors.Is(err, ErrBusy) {
		t.Errorf("Forget during a scan: err = %v, want ErrBusy", err)
	}
	if _, err := sc.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := sc.Put(File{Path: "x"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Finish: err = %v, want ErrClosed", err)
	}
	if _, err := s.BeginWrite("", "/"); !errors.Is(err, ErrBadName) {
		t.Errorf("empty dataset name: err = %v, want ErrBadName", err)
	}
}

func TestForget(t *testing.T) {
	s := openStore(t, Options{BatchFiles: 4})
	frames := func(uint64) int { return 2 }
	a := map[string]uint64{"x/1": 1, "x/2": 2, "x/4": 4}
	b := map[string]uint64{"y/1": 1, "y/5": 5} // y/1 is a copy of x/1
	scanFiles(t, s, "a", a, frames)
	scanFiles(t, s, "b", b, frames)
	im := fakeImage(1, 0)
	q := Query{Fingerprint: im.Fingerprint, FileSHA256: im.FileSHA256, MaxDistance: 0}
	ms, err := s.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("before forget: %d matches, want 2", len(ms))
	}
	if err := s.Forget(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(t.Context(), "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Forget: err = %v, want ErrNotFound", err)
	}
	ds, err := s.Datasets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Name != "b" {
		t.Errorf("after forget: datasets %+v, want only b", ds)
	}
	ms, err = s.Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Image.Dataset != "b" {
		t.Errorf("after forget: matches %+v, want the one in b", ms)
	}
	for _, err := range s.Images(t.Context(), "a") {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Images of a forgotten dataset: err = %v, want ErrNotFound", err)
		}
	}
	mustCheck(t, s)
}

func TestPutTooLarge(t *testing.T) {
	s := openStore(t, Options{})
	sc, err := s.BeginWrite("d", "/d")
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	f, imgs := fakeFile("huge.dcm", 1, 10_000)
	if err := sc.Put(f, imgs); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of 10,000 frames: err = %v, want ErrTooLarge", err)
	}
	// The scan is still usable.
	f.Failure, f.Frames = "too many frames", 0
	if err := sc.Put(f, nil); err != nil {
		t.Fatal(err)
	}
	res, err := sc.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 1 || res.Images != 0 {
		t.Errorf("got %+v", res)
	}
	mustCheck(t, s)
}

// TestFilesShared checks that an index folder readable by others (the
// umask allowed it) holds files they can read: a shared index works.
func TestFilesShared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	st := openStoreAt(t, dir, Options{})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().IsRegular() && info.Mode().Perm()&0o044 != 0o044 {
			t.Errorf("%s has mode %v: not readable by group and others", e.Name(), info.Mode().Perm())
		}
	}
}
