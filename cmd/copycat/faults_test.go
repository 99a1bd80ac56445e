//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fault tests run the real copycat binary (this test binary, through
// TestMain) where the disk or the file system says no: unreadable files,
// an index folder the user may not write (here), a full or read-only
// device (faults_linux_test.go). As root, permissions are not enforced, so
// the permission tests run copycat as user nobody.

// nobody is the user the permission tests run copycat as when the tests
// run as root.
const nobody = 65534

// proc is what one copycat process did.
type proc struct {
	code           int
	stdout, stderr string
}

// copycatProc runs copycat args in a child process, as the user cred names
// when it is not nil.
func copycatProc(tb testing.TB, bin string, cred *syscall.Credential, args ...string) proc {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = append(os.Environ(), "COPYCAT_TEST_MAIN=1")
	if cred != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	p := proc{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		p.code = ee.ExitCode()
	default:
		tb.Fatalf("copycat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, p.stderr)
	}
	noCrash(tb, p)
	return p
}

// noCrash fails the test if the process died the Go runtime's way (a panic
// or a fatal signal prints a stack trace) instead of with a message.
func noCrash(tb testing.TB, p proc) {
	tb.Helper()
	for _, s := range []string{"panic:", "fatal error:", "goroutine ", "SIGBUS", "SIGSEGV"} {
		if strings.Contains(p.stderr, s) {
			tb.Fatalf("copycat crashed (exit %d, stderr has %q):\n%s", p.code, s, firstLines(p.stderr, 30))
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...\n")
	}
	return strings.Join(lines, "")
}

// wantFailure checks that p failed with exit code 1 and a one-line message
// containing every one of want.
func wantFailure(tb testing.TB, p proc, want ...string) {
	tb.Helper()
	if p.code != exitFailure {
		tb.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", p.code, exitFailure, p.stdout, p.stderr)
	}
	for _, w := range want {
		if !strings.Contains(p.stderr, w) {
			tb.Errorf("stderr does not say %q:\n%s", w, p.stderr)
		}
	}
}

// wantOK checks that p exited 0.
func wantOK(tb testing.TB, p proc, what string) {
	tb.Helper()
	if p.code != exitOK {
		tb.Fatalf("%s: exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", what, p.code, p.stdout, p.stderr)
	}
}

// scanOutput is the part of `copycat scan --json` the fault tests read.
type scanOutput struct {
	Datasets []struct {
		Name      string `json:"name"`
		Files     int    `json:"files"`
		Decoded   int    `json:"decoded"`
		Images    int    `json:"images"`
		Unchanged int    `json:"unchanged"`
		Failed    []struct {
			Path   string `json:"path"`
			Reason string `json:"reason"`
		} `json:"failed"`
		FailedTotal int `json:"failed_total"`
	} `json:"datasets"`
}

// datasetsOutput is `copycat datasets --json`.
type datasetsOutput struct {
	Datasets []struct {
		Name     string `json:"name"`
		Files    int    `json:"files"`
		Images   int    `json:"images"`
		Failures int    `json:"failures"`
		Complete bool   `json:"complete"`
	} `json:"datasets"`
}

// queryOutput is `copycat query --json`.
type queryOutput struct {
	Queries []struct {
		Path    string `json:"path"`
		Error   string `json:"error"`
		Matches []struct {
			Dataset string `json:"dataset"`
			Path    string `json:"path"`
			Kind    string `json:"kind"`
		} `json:"matches"`
	} `json:"queries"`
}

func decodeJSON[T any](tb testing.TB, what, s string) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatalf("%s: bad JSON: %v\n%s", what, err, s)
	}
	return v
}

// datasetCounts returns "name images complete" per dataset of the index.
func datasetCounts(tb testing.TB, bin string, cred *syscall.Credential, idx string) []string {
	tb.Helper()
	p := copycatProc(tb, bin, cred, "datasets", "--json", "--index", idx)
	wantOK(tb, p, "datasets")
	var got []string
	for _, d := range decodeJSON[datasetsOutput](tb, "datasets", p.stdout).Datasets {
		got = append(got, fmt.Sprintf("%s images=%d complete=%v", d.Name, d.Images, d.Complete))
	}
	sort.Strings(got)
	return got
}

// wantIdentical checks that `copycat query` finds img as an identical file
// at path in dataset ds.
func wantIdentical(tb testing.TB, bin string, cred *syscall.Credential, idx, img, ds, path string) {
	tb.Helper()
	p := copycatProc(tb, bin, cred, "query", "--json", "--index", idx, img)
	wantOK(tb, p, "query")
	q := decodeJSON[queryOutput](tb, "query", p.stdout)
	if len(q.Queries) != 1 || q.Queries[0].Error != "" {
		tb.Fatalf("query %s: %s", img, p.stdout)
	}
	for _, m := range q.Queries[0].Matches {
		if m.Dataset == ds && m.Path == path && m.Kind == "identical-file" {
			return
		}
	}
	tb.Errorf("query %s: no identical-file match %s/%s:\n%s", img, ds, path, p.stdout)
}

// writePNGs writes n distinct 64x64 grey PNGs, img<first>.png on, into dir:
// blocks of random grey, so no two are near-duplicates.
func writePNGs(tb testing.TB, dir string, first, n int) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	// Stored, not deflated: a test makes hundreds, and deflate is slow
	// under -race.
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	var buf bytes.Buffer
	row := bytes.Repeat([]byte{0}, 64)
	for i := first; i < first+n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 0xc0bcab))
		for by := 0; by < 64; by += 8 {
			for bx := 0; bx < 64; bx += 8 {
				v := byte(r.IntN(256))
				for x := bx; x < bx+8; x++ {
					row[x] = v
				}
			}
			for y := by; y < by+8; y++ {
				copy(img.Pix[y*img.Stride:], row)
			}
		}
		buf.Reset()
		if err := enc.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("img%05d.png", i)), buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// testBinary returns this test binary's path, the copycat that the fault
// tests run.
func testBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// runAs is how the permission tests run copycat: as nobody when the test
// runs as root (root reads and writes whatever the modes say), else as the
// test's own user. dir is a fresh folder the child user may enter (the
// test binary's own folder and t.TempDir are 0700), holding a copy of the
// binary; make what the child must write there with ownDir.
type runAs struct {
	dir  string
	bin  string
	cred *syscall.Credential
}

func newRunAs(tb testing.TB) *runAs {
	tb.Helper()
	dir, err := os.MkdirTemp("", "copycat-faults-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Give back the modes the test took away, or a non-root RemoveAll
		// cannot enter the folders.
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	r := &runAs{dir: dir, bin: filepath.Join(dir, "copycat")}
	src := testBinary(tb)
	if err := os.Link(src, r.bin); err != nil {
		copyFile(tb, src, r.bin)
	}
	if err := os.Chmod(r.bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	if os.Geteuid() == 0 {
		r.cred = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	return r
}

func copyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// ownDir makes a folder under r.dir that the child user owns.
func (r *runAs) ownDir(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(r.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if r.cred != nil {
		if err := os.Chown(dir, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func (r *runAs) run(tb testing.TB, args ...string) proc {
	tb.Helper()
	return copycatProc(tb, r.bin, r.cred, args...)
}

// chmod sets modes for the test (the cleanup gives folders back 0755).
func chmod(tb testing.TB, mode os.FileMode, paths ...string) {
	tb.Helper()
	for _, p := range paths {
		if err := os.Chmod(p, mode); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestFaultUnreadableFiles scans a dataset holding files and a folder the
// user may not read: the scan completes (exit 0: per-file failures do not
// fail a scan), lists each with its path and "permission denied", indexes
// every readable file, and a rescan reports them again.
func TestFaultUnreadableFiles(t *testing.T) {
	r := newRunAs(t)
	ds := filepath.Join(r.dir, "ds")
	writePNGs(t, ds, 0, 5)
	writePNGs(t, filepath.Join(ds, "sub"), 10, 3)
	writePNGs(t, filepath.Join(ds, "locked"), 20, 3)
	chmod(t, 0, filepath.Join(ds, "img00001.png"), filepath.Join(ds, "sub", "img00011.png"))
	chmod(t, 0, filepath.Join(ds, "locked"))
	if r.cred == nil {
		if _, err := os.ReadFile(filepath.Join(ds, "img00001.png")); err == nil {
			t.Skip("this user reads a mode-000 file: permissions are not enforced here")
		}
	}
	idx := filepath.Join(r.ownDir(t, "index"), "idx")
	wantFailed := []string{
		"img00001.png: unreadable: permission denied",
		"locked: unreadable: permission denied",
		"sub/img00011.png: unreadable: permission denied",
	}
	for _, run := range []string{"first scan", "rescan"} {
		p := r.run(t, "scan", "--json", "--workers", "2", "--index", idx, ds)
		wantOK(t, p, run)
		sum := decodeJSON[scanOutput](t, run, p.stdout)
		if len(sum.Datasets) != 1 {
			t.Fatalf("%s: %d datasets, want 1", run, len(sum.Datasets))
		}
		d := sum.Datasets[0]
		var failed []string
		for _, f := range d.Failed {
			failed = append(failed, f.Path+": "+f.Reason)
		}
		if got, want := strings.Join(failed, "\n"), strings.Join(wantFailed, "\n"); got != want {
			t.Errorf("%s: failures\n%s\nwant\n%s", run, got, want)
		}
		// 4 + 2 readable files, each one image.
		if d.Decoded != 6 || d.Images != 6 || d.FailedTotal != 3 {
			t.Errorf("%s: decoded %d, images %d, failed %d; want 6, 6, 3", run, d.Decoded, d.Images, d.FailedTotal)
		}
		if run == "rescan" && d.Unchanged != 6 {
			t.Errorf("rescan: %d unchanged, want the 6 readable files", d.Unchanged)
		}
	}
	if got, want := datasetCounts(t, r.bin, r.cred, idx), []string{"ds images=6 complete=true"}; !equal(got, want) {
		t.Errorf("datasets %v, want %v", got, want)
	}
}

// TestFaultUnwritableIndexDir makes an index, takes away write permission
// on its folder (chmod 0555), and checks that a scan fails at once with a
// message naming the index and the cause, changes nothing, and that the
// read commands still work.
func TestFaultUnwritableIndexDir(t *testing.T) {
	r := newRunAs(t)
	ds := filepath.Join(r.dir, "ds")
	writePNGs(t, ds, 0, 5)
	idx := filepath.Join(r.ownDir(t, "index"), "idx")
	wantOK(t, r.run(t, "scan", "--index", idx, ds), "first scan")
	chmod(t, 0o555, idx)
	if r.cred == nil {
		if f, err := os.CreateTemp(idx, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Skip("this user writes in a 0555 folder: permissions are not enforced here")
		}
	}
	before := listing(t, idx)

	p := r.run(t, "scan", "--index", idx, ds)
	wantFailure(t, p, idx, "not writable", "permission denied")
	if p.stdout != "" {
		t.Errorf("the refused scan printed a summary:\n%s", p.stdout)
	}
	if after := listing(t, idx); !equal(after, before) {
		t.Errorf("the refused scan changed the index folder:\nbefore %v\nafter  %v", before, after)
	}
	// A new index in a folder the user may not write.
	p = r.run(t, "scan", "--index", filepath.Join(idx, "sub"), ds)
	wantFailure(t, p, filepath.Join(idx, "sub"), "not writable", "permission denied")

	if got, want := datasetCounts(t, r.bin, r.cred, idx), []string{"ds images=5 complete=true"}; !equal(got, want) {
		t.Errorf("datasets %v, want %v", got, want)
	}
	wantIdentical(t, r.bin, r.cred, idx, filepath.Join(ds, "img00003.png"), "ds", "img00003.png")
	wantOK(t, r.run(t, "clusters", "--index", idx), "clusters")
}

// listing returns the names, sizes and times of the files in dir.
func listing(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s", e.Name(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano)))
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
