package scan

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// runIn scans into the index at dir, opened for the scan alone as
// `copycat scan` does.
func runIn(ctx context.Context, dir string, opts Options, ds []Dataset) (*Summary, error) {
	if err := CheckIndexDir(dir, JobFloor(ctx, ds, opts.MinFreeSpace).Need()); err != nil {
		return nil, err
	}
	st, err := index.Open(dir, index.Options{})
	if err != nil {
		return nil, err
	}
	sum, err := Run(ctx, st, opts, ds)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return sum, err
}

func runScan(tb testing.TB, index string, workers int, ds ...Dataset) *Summary {
	tb.Helper()
	sum, err := runIn(context.Background(), index, Options{Workers: workers}, ds)
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

func TestScanDemoDatasets(t *testing.T) {
	demo := filepath.Join(testkit.ModuleRoot(t), "testdata", "demo")
	sum := runScan(t, t.TempDir(), 2,
		ParseDataset(filepath.Join(demo, "original")),
		ParseDataset(filepath.Join(demo, "upload.zip")),
		ParseDataset("junk="+filepath.Join(demo, "broken")))
	var got []string
	for _, d := range sum.Datasets {
		got = append(got, fmt.Sprintf("%s files=%d decoded=%d images=%d skipped=%d failed=%d",
			d.Name, d.Files, d.Decoded, d.Images, d.Skipped, d.FailedTotal))
		for _, f := range d.Failed {
			got = append(got, fmt.Sprintf("  %s: %s", f.Path, f.Reason))
		}
	}
	want := []string{
		"original files=7 decoded=5 images=7 skipped=2 failed=0",
		"upload files=4 decoded=3 images=3 skipped=1 failed=0",
		"junk files=5 decoded=0 images=0 skipped=1 failed=4",
		"  ct_0001_truncated.dcm: corrupt dicom: pixel data length 32768, 19330 bytes left: element runs past the end of the data",
		"  empty.png: corrupt: empty file",
		"  random.dcm: corrupt: unrecognised binary content (not DICOM, PNG or JPEG)",
		"  scan.tif: unsupported image format TIFF",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := sum.Datasets[0].Documents, []string{"README.md"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("documents = %v, want %v", got, want)
	}
}

// archiveTree writes dir as a zip or a tar.gz at out.
func archiveTree(tb testing.TB, dir, out string) {
	tb.Helper()
	f, err := os.Create(out)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var add func(name string, data []byte) error
	var closeAll func() error
	if strings.HasSuffix(out, ".zip") {
		zw := zip.NewWriter(f)
		add = func(name string, data []byte) error {
			w, err := zw.Create(name)
			if err == nil {
				_, err = w.Write(data)
			}
			return err
		}
		closeAll = zw.Close
	} else {
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		add = func(name string, data []byte) error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err := tw.Write(data)
			return err
		}
		closeAll = func() error { return errors.Join(tw.Close(), gz.Close()) }
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return add(filepath.ToSlash(rel), data)
	})
	if err == nil {
		err = closeAll()
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// recordKeys lists a dataset's stored image records without the fields
// that differ between a folder and an archive of it (dataset name, mtime).
func recordKeys(tb testing.TB, dir, name string) []string {
	tb.Helper()
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var keys []string
	for r, err := range st.Images(tb.Context(), name) {
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, fmt.Sprintf("%s#%d %s %dx%d b%d %s lossy=%v size=%d file=%x px=%x ts=%s sop=%s mod=%s pid=%s fp=%x",
			r.Path, r.Frame, r.Format, r.Width, r.Height, r.Bits, r.Photometric, r.Lossy, r.FileSize,
			r.FileSHA256, r.PixelSHA256, r.TransferSyntax, r.SOPInstanceUID, r.Modality, r.PatientIDDigest, r.Fingerprint))
	}
	sort.Strings(keys)
	return keys
}

// mixedSet copies the demo DICOMs and ingest's raster fixtures into
// dir/set and returns that folder.
func mixedSet(tb testing.TB, dir string) string {
	tb.Helper()
	root := testkit.ModuleRoot(tb)
	folder := filepath.Join(dir, "set")
	testkit.CopyTree(tb, filepath.Join(root, "testdata", "demo", "original"), filepath.Join(folder, "dicom"))
	testkit.CopyTree(tb, filepath.Join(root, "ingest", "testdata", "raster"), filepath.Join(folder, "raster"))
	return folder
}

func TestScanArchivesMatchFolder(t *testing.T) {
	dir := t.TempDir()
	folder := mixedSet(t, dir)
	archiveTree(t, folder, filepath.Join(dir, "set.zip"))
	archiveTree(t, folder, filepath.Join(dir, "set.tar.gz"))
	index := filepath.Join(dir, "index")
	sum := runScan(t, index, 2,
		Dataset{Name: "folder", Path: folder},
		Dataset{Name: "zip", Path: filepath.Join(dir, "set.zip")},
		Dataset{Name: "targz", Path: filepath.Join(dir, "set.tar.gz")})
	want := recordKeys(t, index, "folder")
	if len(want) < 20 {
		t.Fatalf("folder gave only %d records", len(want))
	}
	for _, name := range []string{"zip", "targz"} {
		got := recordKeys(t, index, name)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s records differ from the folder's:\ngot  %d records\nwant %d", name, len(got), len(want))
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("first difference:\n got  %s\n want %s", got[i], want[i])
					break
				}
			}
		}
	}
	for _, d := range sum.Datasets[1:] {
		if d.Files != sum.Datasets[0].Files || d.Images != sum.Datasets[0].Images || d.FailedTotal != sum.Datasets[0].FailedTotal {
			t.Errorf("%s counts %d/%d/%d differ from the folder's", d.Name, d.Files, d.Images, d.FailedTotal)
		}
	}
}

// TestScanDamagedCorpus scans a truncated copy (50%) of every corpus file,
// a zero-byte file and a random-bytes file: the scan completes and every
// one of them is reported by path.
func TestScanDamagedCorpus(t *testing.T) {
	corpus := testkit.Corpus(t)
	dir := t.TempDir()
	var want []string
	err := filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(p))
		if ext == ".md" || ext == ".tsv" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		rel = filepath.ToSlash(rel)
		out := filepath.Join(dir, "data", rel)
		os.MkdirAll(filepath.Dir(out), 0o755)
		want = append(want, rel)
		return os.WriteFile(out, data[:len(data)/2], 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data", "zero.dcm"), nil, 0o644)
	rnd := make([]byte, 10000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	os.WriteFile(filepath.Join(dir, "data", "random.png"), rnd, 0o644)
	want = append(want, "zero.dcm", "random.png")
	sort.Strings(want)

	sum := runScan(t, filepath.Join(dir, "index"), 2, Dataset{Name: "damaged", Path: filepath.Join(dir, "data")})
	d := sum.Datasets[0]
	var got []string
	for _, f := range d.Failed {
		got = append(got, f.Path)
		if f.Reason == "" || strings.ContainsAny(f.Reason, "\n") {
			t.Errorf("%s: reason %q is not one line", f.Path, f.Reason)
		}
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failed files: got %d, want %d (decoded %d)", len(got), len(want), d.Decoded)
	}
	if d.Files != int64(len(want)) {
		t.Errorf("files = %d, want %d", d.Files, len(want))
	}
	for _, reason := range d.ReasonsByCount() {
		t.Logf("%5d  %s", d.FailureReasons[reason], reason)
	}
}

func TestScanCancelLeaksNothing(t *testing.T) {
	corpus := testkit.Corpus(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var once bool
	sum, err := runIn(ctx, t.TempDir(), Options{Workers: 4, Progress: func(p Progress) {
		if p.Files > 5 && !once {
			once = true
			cancel()
		}
	}}, []Dataset{{Name: "corpus", Path: corpus}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if sum == nil || !sum.Interrupted {
		t.Errorf("summary = %+v, want Interrupted", sum)
	}
	waitGoroutines(t, before)
}

// TestProgressTotal scans the demo's folders and zip: the last progress
// snapshot has the files counted up front, exactly, and equal to the files
// the scan saw.
func TestProgressTotal(t *testing.T) {
	demo := filepath.Join("..", "testdata", "demo")
	var last Progress
	var mu sync.Mutex
	_, err := runIn(context.Background(), t.TempDir(), Options{Workers: 2, Progress: func(p Progress) {
		mu.Lock()
		last = p
		mu.Unlock()
	}}, []Dataset{{Name: "original", Path: filepath.Join(demo, "original")}, {Name: "upload", Path: filepath.Join(demo, "upload.zip")},
		{Name: "broken", Path: filepath.Join(demo, "broken")}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !last.Done || !last.TotalExact || last.TotalFiles != last.Files || last.Files == 0 {
		t.Errorf("last progress %+v: want done, an exact total equal to the %d files seen", last, last.Files)
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name string
		ds   []Dataset
		want string
	}{
		{"none", nil, "scan: no dataset given"},
		{"missing", []Dataset{{Name: "x", Path: "/nonexistent/copycat"}}, "scan: dataset x: stat /nonexistent/copycat: no such file or directory"},
		{"twice", []Dataset{{Name: "a", Path: "."}, {Name: "a", Path: "."}}, `scan: dataset name "a" given twice; name them with NAME=PATH`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runIn(context.Background(), t.TempDir(), Options{}, tt.ds)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReasonClass(t *testing.T) {
	tests := []struct{ in, want string }{
		{"corrupt dicom: pixel data length 32768, 19330 bytes left", "corrupt dicom: pixel data length N, N bytes left"},
		{"unsupported transfer syntax RLE Lossless (1.2.840.10008.1.2.5)", "unsupported transfer syntax RLE Lossless"},
		{"too large: image 30000x30000 (900.0 megapixels) exceeds pixel budget of 100 megapixels", "too large: image NxN exceeds pixel budget of N megapixels"},
	}
	for _, tt := range tests {
		if got := reasonClass(tt.in); got != tt.want {
			t.Errorf("reasonClass(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDataset(t *testing.T) {
	tests := []struct {
		arg  string
		want Dataset
	}{
		{"data/upload.tar.gz", Dataset{Name: "upload", Path: "data/upload.tar.gz"}},
		{"kaggle=data/x.zip", Dataset{Name: "kaggle", Path: "data/x.zip"}},
		{"/some/folder/", Dataset{Name: "folder", Path: "/some/folder/"}},
	}
	for _, tt := range tests {
		if got := ParseDataset(tt.arg); got != tt.want {
			t.Errorf("ParseDataset(%q) = %+v, want %+v", tt.arg, got, tt.want)
		}
	}
}

func TestScanRescan(t *testing.T) {
	root := testkit.ModuleRoot(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	testkit.CopyTree(t, filepath.Join(root, "ingest", "testdata", "raster"), data)
	testkit.CopyTree(t, filepath.Join(root, "testdata", "demo", "broken"), filepath.Join(data, "broken"))
	index := filepath.Join(dir, "index")
	line := func(d *DatasetSummary) string {
		return fmt.Sprintf("files=%d decoded=%d images=%d skipped=%d failed=%d unchanged=%d removed=%d listed=%d",
			d.Files, d.Decoded, d.Images, d.Skipped, d.FailedTotal, d.Unchanged, d.Removed, len(d.Failed))
	}
	first := runScan(t, index, 2, Dataset{Name: "d", Path: data}).Datasets[0]
	if got, want := line(first), "files=24 decoded=18 images=18 skipped=2 failed=4 unchanged=0 removed=0 listed=4"; got != want {
		t.Fatalf("first scan:\ngot  %s\nwant %s", got, want)
	}
	again := runScan(t, index, 2, Dataset{Name: "d", Path: data}).Datasets[0]
	if got, want := line(again), "files=24 decoded=18 images=18 skipped=2 failed=4 unchanged=24 removed=0 listed=4"; got != want {
		t.Errorf("unchanged rescan:\ngot  %s\nwant %s", got, want)
	}
	if again.Bytes != 0 {
		t.Errorf("unchanged rescan read %d bytes, want 0", again.Bytes)
	}
	// Change one file, delete one, add one, and repair a broken one.
	os.Remove(filepath.Join(data, "gray1.png"))
	os.WriteFile(filepath.Join(data, "new.png"), mustRead(t, filepath.Join(data, "rgb8.png")), 0o644)
	os.WriteFile(filepath.Join(data, "gray8.png"), mustRead(t, filepath.Join(data, "gray4.png")), 0o644)
	os.WriteFile(filepath.Join(data, "broken", "empty.png"), mustRead(t, filepath.Join(data, "gray2.png")), 0o644)
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(data, "gray8.png"), future, future)
	third := runScan(t, index, 2, Dataset{Name: "d", Path: data}).Datasets[0]
	if got, want := line(third), "files=24 decoded=19 images=19 skipped=2 failed=3 unchanged=21 removed=1 listed=3"; got != want {
		t.Errorf("rescan after changes:\ngot  %s\nwant %s", got, want)
	}
}

func mustRead(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestScanSecondWriterFails(t *testing.T) {
	dir := t.TempDir()
	st, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = runIn(context.Background(), dir, Options{}, []Dataset{{Name: "x", Path: "."}})
	if !errors.Is(err, index.ErrLocked) || !strings.Contains(err.Error(), "lock") {
		t.Errorf("second writer: err = %v, want index.ErrLocked naming the lock", err)
	}
}

// TestScanReadBudget scans one dataset with a read budget smaller than any
// file (every file then takes the whole budget: one at a time) and with the
// default: the index holds the same records, and nothing deadlocks.
func TestScanReadBudget(t *testing.T) {
	dir := t.TempDir()
	folder := mixedSet(t, dir)
	index := filepath.Join(dir, "index") // one index: patient digests are salted per index
	var want []string
	for _, budget := range []int64{0, 1} {
		name := fmt.Sprintf("budget-%d", budget)
		_, err := runIn(context.Background(), index, Options{Workers: 4, ReadBudget: budget}, []Dataset{{Name: name, Path: folder}})
		if err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		got := recordKeys(t, index, name)
		if budget == 0 {
			want = got
			if len(want) < 20 {
				t.Fatalf("only %d records", len(want))
			}
			continue
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("budget %d: %d records differ from the default budget's %d", budget, len(got), len(want))
		}
	}
}
