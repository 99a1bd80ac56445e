package copycat_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestQueryErrorsKeepTheirType checks that a file that cannot be decoded
// reaches the caller of the public API as a *FileError with its path,
// through which errors.As finds the decoder's typed error.
func TestQueryErrorsKeepTheirType(t *testing.T) {
	ix, cleanup := demoIndex()
	defer cleanup()
	ctx := t.Context()
	tests := []struct {
		name string
		path string // read from disk when data is nil
		data []byte
		want func(error) bool
		sent error
	}{
		{"truncated PNG", "testdata/bad/truncated.png", nil, as[*copycat.CorruptError], copycat.ErrCorrupt},
		{"truncated DICOM", "testdata/demo/broken/ct_0001_truncated.dcm", nil, as[*copycat.CorruptError], copycat.ErrCorrupt},
		{"unknown transfer syntax", "testdata/bad/bogus-syntax.dcm", nil, as[*copycat.UnsupportedError], copycat.ErrUnsupported},
		{"over the pixel budget", "huge.png", testkit.PNGHeader(60000, 60000, 8, 0), as[*copycat.TooLargeError], copycat.ErrTooLarge},
		{"missing file", "testdata/no-such-file.png", nil, as[*fs.PathError], fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.data != nil {
				_, err = ix.QueryBytes(ctx, tt.path, tt.data, copycat.QueryOptions{})
			} else {
				_, err = ix.Query(ctx, tt.path, copycat.QueryOptions{})
			}
			var fe *copycat.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want a *FileError", err, err)
			}
			if got, want := fe.Path, tt.path; got != want {
				t.Errorf("FileError.Path = %q, want %q", got, want)
			}
			if fe.Reason == "" {
				t.Error("FileError.Reason is empty")
			}
			if !tt.want(err) {
				t.Errorf("errors.As does not find the cause's type in %v (cause %T)", err, fe.Err)
			}
			if !errors.Is(err, tt.sent) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sent)
			}
		})
	}
}

func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestIndexErrors checks the index-level errors a caller matches.
func TestIndexErrors(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := copycat.Open(dir, copycat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Forget(ctx, "nothing"); !errors.Is(err, copycat.ErrNotFound) {
		t.Errorf("Forget of an unknown dataset: err = %v, want ErrNotFound", err)
	}
	if _, err := ix.Lineage(ctx, copycat.LineageOptions{}); !errors.Is(err, copycat.ErrNoDatasets) {
		t.Errorf("Lineage of an empty index: err = %v, want ErrNoDatasets", err)
	}
	_, err = copycat.Open(dir, copycat.Options{ReadOnly: true})
	var le *copycat.LockedError
	if !errors.As(err, &le) || !errors.Is(err, copycat.ErrLocked) || le.Dir == "" {
		t.Errorf("second Open while a writer holds the index: err = %v, want a *LockedError naming the folder", err)
	}
	ds := []copycat.Dataset{{Name: "demo", Path: "testdata/demo/original"}}
	if _, err := ix.Scan(ctx, ds, copycat.ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	other := []copycat.Dataset{{Name: "demo", Path: "testdata/demo/broken"}}
	var nt *copycat.NameTakenError
	if _, err := ix.Scan(ctx, other, copycat.ScanOptions{}); !errors.As(err, &nt) || nt.Existing != ds[0].Path || nt.New != other[0].Path {
		t.Errorf("Scan of another source under a taken name: err = %v, want a *NameTakenError naming both sources", err)
	}
	if _, err := ix.Scan(ctx, other, copycat.ScanOptions{Replace: true}); err != nil {
		t.Errorf("Scan with Replace: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Query(ctx, "testdata/bad/truncated.png", copycat.QueryOptions{}); !errors.Is(err, copycat.ErrClosed) {
		t.Errorf("Query on a closed index: err = %v, want ErrClosed", err)
	}

	ro, err := copycat.Open(dir, copycat.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.Scan(ctx, []copycat.Dataset{copycat.ParseDataset("testdata/demo/original")}, copycat.ScanOptions{})
	if !errors.Is(err, copycat.ErrReadOnly) {
		t.Errorf("Scan on a read-only index: err = %v, want ErrReadOnly", err)
	}
	if err := ro.Forget(ctx, "original"); !errors.Is(err, copycat.ErrReadOnly) {
		t.Errorf("Forget on a read-only index: err = %v, want ErrReadOnly", err)
	}
}

// phantom draws a smooth grey test picture: a few soft discs on a ramp,
// the kind of structure a pHash sees in a scan.
func phantom(w, h int) *image.Gray {
	im := image.NewGray(image.Rect(0, 0, w, h))
	discs := []struct{ x, y, r, v float64 }{{0.3, 0.35, 0.18, 120}, {0.68, 0.4, 0.14, -90}, {0.5, 0.72, 0.2, 70}, {0.2, 0.8, 0.08, -60}}
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			v := 60 + 80*fx
			for _, d := range discs {
				r := math.Hypot(fx-d.x, fy-d.y) / d.r
				v += d.v * math.Exp(-r*r*r*r)
			}
			im.Pix[y*im.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return im
}

// writeCopies writes an original PNG and two copies a re-uploader makes,
// each in its own dataset folder: the copies differ from the original in
// their pHash by a few bits, so that only a search beyond distance 0
// finds them.
func writeCopies(t *testing.T) (original, copies string) {
	t.Helper()
	root := t.TempDir()
	original, copies = filepath.Join(root, "original"), filepath.Join(root, "copies")
	for _, d := range []string{original, copies} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := phantom(320, 320)
	var b bytes.Buffer
	if err := png.Encode(&b, src); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(original, "a.png"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// A copy shifted by a margin and saved as a low-quality JPEG.
	shifted := image.NewGray(image.Rect(0, 0, 300, 300))
	for y := range 300 {
		copy(shifted.Pix[y*shifted.Stride:][:300], src.Pix[(y+12)*src.Stride+12:])
	}
	b.Reset()
	if err := jpeg.Encode(&b, shifted, &jpeg.Options{Quality: 40}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copies, "a.jpg"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return original, copies
}

// TestMaxDistanceZeroMeansExact checks the options' convention: a nil
// MaxDistance is the default, and Distance(0) is exact copies only, the
// same in Query, Clusters and Lineage. (Lineage once took 0 for the
// default, so `copycat lineage --max-distance 0` meant 8.)
func TestMaxDistanceZeroMeansExact(t *testing.T) {
	original, copies := writeCopies(t)
	ix, err := copycat.Open(filepath.Join(t.TempDir(), "index"), copycat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ctx := t.Context()
	ds := []copycat.Dataset{{Name: "original", Path: original}, {Name: "copies", Path: copies}}
	if _, err := ix.Scan(ctx, ds, copycat.ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	count := func(d *int) (near, clusters, edges int) {
		rs, err := ix.Query(ctx, filepath.Join(original, "a.png"), copycat.QueryOptions{MaxDistance: d})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			for _, m := range r.Matches {
				if m.Kind == copycat.NearDuplicate && m.Verified {
					if m.Distance == 0 {
						t.Fatalf("the copy has the original's pHash: the test needs one that differs")
					}
					near++
				}
			}
		}
		cs, _, err := ix.Clusters(ctx, copycat.ClusterOptions{MaxDistance: d})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ix.Lineage(ctx, copycat.LineageOptions{MaxDistance: d, NoDocuments: true})
		if err != nil {
			t.Fatal(err)
		}
		return near, len(cs), len(rep.Overlaps)
	}
	tests := []struct {
		name                    string
		d                       *int
		near, clusters, overlap int
	}{
		{"default", nil, 1, 1, 1},
		{"explicit default", copycat.Distance(copycat.DefaultMaxDistance), 1, 1, 1},
		{"exact only", copycat.Distance(0), 0, 0, 0},
	}
	for _, tt := range tests {
		near, clusters, overlaps := count(tt.d)
		if near != tt.near || clusters != tt.clusters || overlaps != tt.overlap {
			t.Errorf("%s: %d near-duplicates, %d clusters, %d dataset overlaps; want %d, %d, %d",
				tt.name, near, clusters, overlaps, tt.near, tt.clusters, tt.overlap)
		}
	}
}

// TestExampleModule builds the example program in testdata/example, a
// module of its own that uses copycat through its public package only,
// and runs it on the demo datasets: scan, query, clusters.
func TestExampleModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the example module")
	}
	bin := filepath.Join(t.TempDir(), "example")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = filepath.Join("testdata", "example")
	build.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in testdata/example: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "testdata/demo/original", "testdata/demo/kaggle-copy.tar.gz").CombinedOutput()
	if err != nil {
		t.Fatalf("example: %v\n%s", err, out)
	}
	got := string(out)
	want := `scanned original: 7 images, 0 failed
scanned kaggle-copy: 4 images, 0 failed
queried 7 images of original: 3 have a verified copy elsewhere
3 clusters among 11 images
`
	if got != want {
		t.Errorf("example printed\n%s\nwant\n%s", got, want)
	}
}
