// Package testkit is test support shared by copycat's packages, for tests
// only: no non-test code imports it (package dicomtest, itself test-only,
// is the one exception). It finds the module root and the shared data
// beside it (../shared/corpus, ../shared/pdq), copies fixture trees, and
// checks golden files:
// the pinned output of a measurement or decoder lives in a package's
// testdata/, and a test compares what it computes with it, or rewrites it
// when run with -update.
//
// testkit defines the one -update flag of every test binary that imports
// it, so `go test ./pkg -update` rewrites that package's golden files;
// packages must not define their own.
package testkit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files (and generated fixtures) in testdata/ from what the tests compute")

// Update reports whether the tests run with -update, for tests that
// rewrite files other than through Check and CheckBytes (generated
// fixtures, scenario scripts).
func Update() bool { return *update }

// ModuleRoot returns the folder holding go.mod, found by walking up from
// the working directory (a test runs in its package's folder). It fails
// the test when there is none.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testkit: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Shared returns the folder elem of ../shared, the test data kept beside
// the module root rather than in it (the corpus, the PDQ vectors), or
// skips the test when it is absent: the project builds and tests without
// it.
func Shared(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{filepath.Dir(ModuleRoot(tb)), "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test data %s absent: skipping (it sits beside the checkout in CI)", p)
	}
	return p
}

// FindCorpus returns the shared real-file corpus, ../shared/corpus beside
// the module root, and whether it is there (its MANIFEST.tsv is), for
// tests that use it when present and carry on without it.
//
// Unlike reupload.FindCorpus (the CLI's lookup) it does not read
// $COPYCAT_CORPUS: goldens pin figures of this one corpus.
func FindCorpus(tb testing.TB) (string, bool) {
	tb.Helper()
	dir := filepath.Join(filepath.Dir(ModuleRoot(tb)), "shared", "corpus")
	_, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv"))
	return dir, err == nil
}

// Corpus returns the shared real-file corpus (see FindCorpus), or skips
// the test when it is absent.
func Corpus(tb testing.TB) string {
	tb.Helper()
	dir, ok := FindCorpus(tb)
	if !ok {
		tb.Skipf("shared corpus not found at %s: skipping (it sits beside the checkout in CI)", dir)
	}
	return dir
}

// Check compares got with the golden file at path line by line, reporting
// the lines that differ, or under -update writes got there (creating the
// folder). It returns false when it reported a difference.
func Check(tb testing.TB, path, got string) bool {
	tb.Helper()
	want, ok := golden(tb, path, []byte(got))
	if ok && string(want) != got {
		tb.Errorf("%s differs (run with -update if intended):\n%s", path, Diff(string(want), got))
		return false
	}
	return true
}

// CheckBytes compares got with the golden file at path byte for byte, for
// binary goldens (encoded records), or under -update writes got there. It
// reports only the sizes: what differs is for the test to explain. It
// returns false when it reported a difference.
func CheckBytes(tb testing.TB, path string, got []byte) bool {
	tb.Helper()
	want, ok := golden(tb, path, got)
	if ok && !bytes.Equal(want, got) {
		tb.Errorf("%s differs: %d bytes, golden %d (run with -update if intended)", path, len(got), len(want))
		return false
	}
	return true
}

// golden writes got to path under -update (ok is false: nothing to
// compare), else returns the file's content.
func golden(tb testing.TB, path string, got []byte) (want []byte, ok bool) {
	tb.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return nil, false
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	return want, true
}

// Diff lists the lines that differ between want and got, numbered from 1,
// "-" for want's and "+" for got's; "" when they are equal.
func Diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, w, g)
		}
	}
	return b.String()
}

// CopyTree copies the regular files under src into dst, keeping their
// relative paths: a test that changes a dataset works on its own copy.
func CopyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// ImageMagick returns the path of ImageMagick's convert, or skips the test
// with the reason. A tool is known by what it says it is, not by its name:
// a `convert` on PATH may be a stand-in or GraphicsMagick, whose output
// the tests' figures were not measured with.
func ImageMagick(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("convert")
	if err != nil {
		tb.Skip("ImageMagick convert not installed (make deps installs it)")
	}
	out, err := exec.Command(path, "-version").Output()
	if err != nil || !strings.Contains(string(out), "ImageMagick") {
		tb.Skipf("%s is not ImageMagick (convert -version: %v %q): make deps installs it", path, err, firstLine(out))
	}
	return path
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

// CorpusFiles lists the files under the shared corpus (below subdirs, or
// all of it) whose extension is one of exts, case aside, relative to the
// corpus root and sorted; it skips the test when the corpus is absent.
func CorpusFiles(tb testing.TB, exts []string, subdirs ...string) (root string, rel []string) {
	tb.Helper()
	root = Corpus(tb)
	if len(subdirs) == 0 {
		subdirs = []string{"."}
	}
	for _, sd := range subdirs {
		err := filepath.WalkDir(filepath.Join(root, sd), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !slices.Contains(exts, strings.ToLower(filepath.Ext(p))) {
				return err
			}
			r, err := filepath.Rel(root, p)
			rel = append(rel, r)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	slices.Sort(rel)
	return root, rel
}

// PNGHeader is a PNG signature and IHDR chunk claiming width x height
// pixels of the given bit depth and colour type, and nothing after: what
// checks made from the header alone (the pixel budget, cost estimates) read.
func PNGHeader(width, height uint32, depth, colour byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], width)
	binary.BigEndian.PutUint32(ihdr[8:], height)
	ihdr[12], ihdr[13] = depth, colour
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

// NIfTIFixture is the small real NIfTI volume tests share, relative to
// the module root: 46x55x6 voxels cut from MRIcron's ch2, big-endian int16
// with scaling, gzip'd (see the NOTICE beside it).
const NIfTIFixture = "ingest/internal/nifti/testdata/ch2-small-int16be.nii.gz"

// Gunzip returns the content of a gzip stream, failing tb when it is not
// one.
func Gunzip(tb testing.TB, data []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Chromium returns a function that runs headless Chromium with the given
// arguments and returns its standard output, or skips the test when
// chromium is not installed (`make deps` installs it) or in -short mode.
// Each browser gets a fresh profile and fetches nothing on its own.
func Chromium(tb testing.TB) func(args ...string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		tb.Skip("chromium not installed (make deps)")
	}
	if testing.Short() {
		tb.Skip("browser test skipped in -short mode")
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--no-first-run", "--user-data-dir=" + tb.TempDir()}
	return func(args ...string) []byte {
		tb.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(slices.Clip(base), args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			tb.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
}
