package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/copycat-dev/copycat"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// runCmd runs the command line in-process and returns exit code and output.
func runCmd(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	idx := filepath.Join(t.TempDir(), "idx")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no args", nil, exitUsage},
		{"help", []string{"help"}, exitOK},
		{"unknown", []string{"frobnicate"}, exitUsage},
		{"scan without dataset", []string{"scan", "--index", idx}, exitUsage},
		{"scan bad flag", []string{"scan", "--nope", "x"}, exitUsage},
		{"scan missing path", []string{"scan", "--index", idx, "/nonexistent/copycat"}, exitFailure},
		{"scan with failures", []string{"scan", "--index", idx, filepath.Join(demo, "broken")}, exitOK},
		{"scan flags after paths", []string{"scan", filepath.Join(demo, "broken"), "--index", idx, "--workers", "1"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.code, stderr)
			}
		})
	}
}

func TestScanJSON(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	idx := filepath.Join(t.TempDir(), "idx")
	code, stdout, stderr := runCmd(t, map[string]string{"COPYCAT_INDEX": idx}, "scan", "--json",
		filepath.Join(demo, "upload.zip"), "junk="+filepath.Join(demo, "broken"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The documented shape, decoded generically so renamed fields fail.
	var got struct {
		Datasets []struct {
			Name    *string `json:"name"`
			Files   *int    `json:"files"`
			Decoded *int    `json:"decoded"`
			Images  *int    `json:"images"`
			Skipped *int    `json:"skipped"`
			Failed  []struct {
				Path   *string `json:"path"`
				Reason *string `json:"reason"`
			} `json:"failed"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if len(got.Datasets) != 2 {
		t.Fatalf("%d datasets, want 2", len(got.Datasets))
	}
	up, junk := got.Datasets[0], got.Datasets[1]
	if *up.Name != "upload" || *up.Files != 4 || *up.Decoded != 3 || *up.Images != 3 || *up.Skipped != 1 || len(up.Failed) != 0 {
		t.Errorf("upload summary wrong: %s", stdout)
	}
	if *junk.Name != "junk" || len(junk.Failed) != 4 || *junk.Failed[0].Path != "ct_0001_truncated.dcm" || *junk.Failed[0].Reason == "" {
		t.Errorf("junk summary wrong: %s", stdout)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress drawn with --json: %q", stderr)
	}
}

func TestHashOutput(t *testing.T) {
	ct := filepath.Join("..", "..", "testdata", "demo", "original", "ct_0004.dcm")
	tests := []struct {
		algo   string
		fields int
		hexLen int
	}{
		{"phash", 2, 16},
		{"dhash", 2, 16},
		{"ahash", 2, 16},
		{"pdq", 3, 64},
		{"all", 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.algo, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, nil, "hash", "--algo", tt.algo, ct)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3 (one per frame):\n%s", len(lines), stdout)
			}
			for i, l := range lines {
				f := strings.Split(l, "\t")
				wantPath := ct
				if i > 0 {
					wantPath += "#frame=" + string(rune('0'+i))
				}
				if tt.algo == "all" {
					// Every hash labelled, the path last.
					var labels []string
					for _, kv := range f[:len(f)-1] {
						k, _, _ := strings.Cut(kv, "=")
						labels = append(labels, k)
					}
					if got := strings.Join(labels, ","); got != "phash,dhash,ahash,pdq,pdq_quality" || f[len(f)-1] != wantPath {
						t.Errorf("line %d = %q, want labelled phash, dhash, ahash, pdq, pdq_quality, then path %s", i, l, wantPath)
					}
					continue
				}
				if len(f) != tt.fields || len(f[0]) != tt.hexLen || f[1] != wantPath {
					t.Errorf("line %d = %q, want %d fields, %d hex chars, path %s", i, l, tt.fields, tt.hexLen, wantPath)
				}
			}
		})
	}
	if code, _, _ := runCmd(t, nil, "hash", "--algo", "md5", ct); code != exitUsage {
		t.Errorf("unknown algo: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCmd(t, nil, "hash", filepath.Join("..", "..", "testdata", "demo", "broken", "empty.png")); code != exitFailure {
		t.Errorf("undecodable file: exit %d, want %d", code, exitFailure)
	}
}

// TestScanNameTaken checks that a dataset name the index holds for one
// source is not silently given to another: the scan is refused with both
// paths and what to do, before anything is written; a rescan of the same
// source, another name and --replace all work.
func TestScanNameTaken(t *testing.T) {
	root := t.TempDir()
	idx := filepath.Join(root, "idx")
	demo := filepath.Join("..", "..", "testdata", "demo")
	a, b := filepath.Join(root, "a", "images"), filepath.Join(root, "b", "images")
	testkit.CopyTree(t, filepath.Join(demo, "original"), a)
	testkit.CopyTree(t, filepath.Join(demo, "broken"), b)
	datasets := func() string {
		_, out, _ := runCmd(t, nil, "datasets", "--index", idx)
		return out
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantErr    []string // in stderr
		wantSource string   // the source "images" has afterwards
	}{
		{"first scan", []string{a}, exitOK, nil, a},
		{"rescan of the same folder", []string{a}, exitOK, nil, a},
		{"rescan through another spelling of it", []string{filepath.Join(root, "a", ".", "images") + "/"}, exitOK, nil, a},
		{"another folder with the same base name", []string{b}, exitFailure,
			[]string{`dataset name "images" already belongs to ` + a, "to scan " + b, "NAME=" + b, "--replace"}, a},
		{"the same, named", []string{"images-b=" + b}, exitOK, nil, a},
		{"the same, replacing", []string{"--replace", b}, exitOK, nil, b},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(t, nil, append([]string{"scan", "--index", idx}, tt.args...)...)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d (stderr: %s)", tt.name, code, tt.code, stderr)
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tt.name, w, stderr)
			}
		}
		if got := datasets(); !strings.Contains(got, tt.wantSource) {
			t.Errorf("%s: images should come from %s now:\n%s", tt.name, tt.wantSource, got)
		}
	}
}

// TestIncompleteWarned leaves a dataset's scan unfinished and checks that
// clusters, lineage and report say their results cover only part of it,
// in text, JSON and HTML.
func TestIncompleteWarned(t *testing.T) {
	idx := filepath.Join(t.TempDir(), "idx")
	demo := filepath.Join("..", "..", "testdata", "demo")
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join(demo, "original"), filepath.Join(demo, "upload.zip")); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	// A scan of "upload" that stops before it finishes, as a killed one does.
	st, err := index.Open(idx, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.BeginWrite("upload", filepath.Join(demo, "upload.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	tests := []struct {
		args   []string
		stream string // where the warning goes: stdout, stderr or the HTML file
		want   string
	}{
		{[]string{"clusters"}, "stderr", "warning: the last scan of upload did not finish"},
		{[]string{"clusters", "--json"}, "stdout", `"incomplete_datasets": [`},
		{[]string{"lineage"}, "stdout", "WARNING: the last scan of dataset upload did not finish"},
		{[]string{"lineage", "--json"}, "stdout", `"incomplete_datasets": [`},
		{[]string{"report", "--html", html}, "html", "Warning: the last scan of dataset upload did not finish"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCmd(t, nil, append(tt.args, "--index", idx)...)
		if code != exitOK {
			t.Errorf("%v: exit %d: %s", tt.args, code, stderr)
			continue
		}
		got := map[string]string{"stdout": stdout, "stderr": stderr}[tt.stream]
		if tt.stream == "html" {
			b, err := os.ReadFile(html)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v: %s lacks %q:\n%s", tt.args, tt.stream, tt.want, got)
		}
	}
	// A finished rescan clears the warning.
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join(demo, "upload.zip")); code != exitOK {
		t.Fatalf("rescan: exit %d: %s", code, stderr)
	}
	if _, stdout, _ := runCmd(t, nil, "lineage", "--index", idx); strings.Contains(stdout, "WARNING") {
		t.Errorf("lineage still warns after a finished rescan:\n%s", stdout)
	}
}

// TestProgressLine checks the status line: which dataset of how many, and
// never wider than the terminal (a wrapped line leaves stale copies).
func TestProgressLine(t *testing.T) {
	p := copycat.Progress{Dataset: "ds3k", DatasetIndex: 2, Datasets: 3, Files: 1758, Images: 1758, Elapsed: 10 * time.Second}
	line := progressLine(p)
	if !strings.HasPrefix(line, "[2/3] ds3k: 1758 files") {
		t.Errorf("progress line %q does not say which dataset of how many", line)
	}
	one := p
	one.Datasets, one.DatasetIndex = 1, 1
	if got := progressLine(one); !strings.HasPrefix(got, "ds3k: ") {
		t.Errorf("single-dataset line %q has a counter", got)
	}
	totals := []struct {
		name  string
		total int64
		exact bool
		want  string
	}{
		{"counting", 0, false, "[2/3] ds3k: 1758 files (176/s), 1758 images, 0.0 MB/s, 0 errors, 10s"},
		{"exact", 3516, true, "[2/3] ds3k: 1758 of 3516 files (50%, 176/s, 10s left), 1758 images, 0.0 MB/s, 0 errors, 10s"},
		{"estimate", 3516, false, "[2/3] ds3k: 1758 of ~3516 files (~50%, 176/s, 10s left), 1758 images, 0.0 MB/s, 0 errors, 10s"},
		{"estimate passed", 1000, false, "[2/3] ds3k: 1758 files (176/s), 1758 images, 0.0 MB/s, 0 errors, 10s"},
	}
	for _, tt := range totals {
		q := p
		q.TotalFiles, q.TotalExact = tt.total, tt.exact
		if got := progressLine(q); got != tt.want {
			t.Errorf("%s: progress line\n%q, want\n%q", tt.name, got, tt.want)
		}
	}
	q := p
	q.Files, q.Images, q.Failed = 1, 1, 1
	if got := progressLine(q); !strings.Contains(got, " 1 file ") || !strings.Contains(got, " 1 image,") || !strings.Contains(got, " 1 error,") {
		t.Errorf("singular counts: %q", got)
	}
	tests := []struct {
		width int
		want  int // runes
	}{{0, len([]rune(line))}, {50, 49}, {20, 19}, {len([]rune(line)) + 1, len([]rune(line))}, {1000, len([]rune(line))}}
	for _, tt := range tests {
		if got := len([]rune(fitWidth(line, tt.width))); got != tt.want {
			t.Errorf("fitWidth(line, %d) has %d runes, want %d", tt.width, got, tt.want)
		}
	}
}

// TestScanSingleImage gives one image file as a dataset: the scan says
// what to do and leaves no index behind.
func TestScanSingleImage(t *testing.T) {
	idx := filepath.Join(t.TempDir(), "idx")
	img := filepath.Join("..", "..", "testdata", "demo", "original", "ct_0002.dcm")
	code, _, stderr := runCmd(t, nil, "scan", "--index", idx, img)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"is one dicom image, not a dataset", "copycat query " + img} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, stderr)
		}
	}
	if _, err := os.Stat(idx); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused scan left %s behind (stat: %v)", idx, err)
	}
	// An archive given as a dataset is fine.
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join("..", "..", "testdata", "demo", "kaggle-copy.tar.gz")); code != exitOK {
		t.Errorf("scan of a tar.gz: exit %d: %s", code, stderr)
	}
}

// TestScanPixelBudgetPerFrame scans a 3-frame 70x46 DICOM with the budget
// at one frame's pixels and one pixel under: the budget counts a frame,
// not the file, since frames are decoded one at a time.
func TestScanPixelBudgetPerFrame(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "ingest", "internal", "dicom", "testdata", "dicom", "multiframe_fg.dcm")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "clip"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clip", "clip.dcm"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		maxPixels      string
		images, failed int
		reason         string
	}{
		{"3220", 3, 0, ""},
		{"3219", 0, 1, "too large: frame 70x46"},
	}
	for _, tt := range tests {
		t.Run(tt.maxPixels, func(t *testing.T) {
			idx := filepath.Join(t.TempDir(), "idx")
			code, stdout, stderr := runCmd(t, nil, "scan", "--index", idx, "--json", "--max-pixels", tt.maxPixels, filepath.Join(dir, "clip"))
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got struct {
				Datasets []struct {
					Images int `json:"images"`
					Failed []struct {
						Reason string `json:"reason"`
					} `json:"failed"`
				} `json:"datasets"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got.Datasets) != 1 {
				t.Fatalf("bad JSON (%v): %s", err, stdout)
			}
			ds := got.Datasets[0]
			if ds.Images != tt.images || len(ds.Failed) != tt.failed {
				t.Fatalf("images %d, failed %d, want %d and %d: %s", ds.Images, len(ds.Failed), tt.images, tt.failed, stdout)
			}
			if tt.failed > 0 && !strings.Contains(ds.Failed[0].Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", ds.Failed[0].Reason, tt.reason)
			}
		})
	}
}

// TestReadWaitsForScan holds the index for writing, as a scan does, and
// runs read commands: without --wait they fail at once saying how to wait;
// with --wait they say what they wait for and run once the index is free.
func TestReadWaitsForScan(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	idx := filepath.Join(t.TempDir(), "idx")
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join(demo, "original")); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	for _, cmd := range [][]string{{"clusters"}, {"datasets"}, {"lineage"}, {"check"}, {"query", filepath.Join(demo, "original", "ct_0001.dcm")},
		{"report", "--html", filepath.Join(t.TempDir(), "r.html")}, {"compact"}} {
		t.Run(cmd[0], func(t *testing.T) {
			holder, err := copycat.Open(idx, copycat.Options{})
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{cmd[0], "--index", idx}, cmd[1:]...)
			code, _, stderr := runCmd(t, nil, args...)
			if code == exitOK || !strings.Contains(stderr, "--wait") {
				t.Errorf("without --wait: exit %d, stderr %q; want a failure that mentions --wait", code, stderr)
			}
			// The waiting command runs in-process with a stderr the test
			// can watch, so it closes the holder only once the wait began.
			var errOut lockedBuffer
			done := make(chan int, 1)
			go func() {
				e := &env{stdout: io.Discard, stderr: &errOut, getenv: func(string) string { return "" }}
				done <- run(context.Background(), e, append([]string{cmd[0], "--index", idx, "--wait"}, cmd[1:]...))
			}()
			for deadline := time.Now().Add(time.Minute); !strings.Contains(errOut.String(), "waiting for"); {
				select {
				case code := <-done:
					t.Fatalf("--wait returned while the index was held: exit %d: %s", code, errOut.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("--wait said nothing in a minute: %q", errOut.String())
				}
			}
			if err := holder.Close(); err != nil {
				t.Fatal(err)
			}
			r := struct {
				code   int
				stderr string
			}{<-done, errOut.String()}
			if r.code != exitOK || !strings.Contains(r.stderr, "waiting for the copycat process holding") {
				t.Errorf("--wait: exit %d, stderr %q; want success after saying it waits", r.code, r.stderr)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestQueryErrorsToStderr queries an undecodable file beside a good one:
// the error goes to stderr with the path, the result to stdout, and the
// counts are singular where they are one.
func TestQueryErrorsToStderr(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	idx := filepath.Join(t.TempDir(), "idx")
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join(demo, "original")); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	bad := filepath.Join(demo, "broken", "empty.png")
	good := filepath.Join(demo, "original", "cr_0005.dcm")
	code, stdout, stderr := runCmd(t, nil, "query", "--index", idx, "--max-distance", "0", bad, good)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if strings.Contains(stdout, bad) || !strings.Contains(stderr, bad) {
		t.Errorf("the error for %s is not on stderr alone:\nstdout %q\nstderr %q", bad, stdout, stderr)
	}
	if !strings.Contains(stdout, good+": 1 match\n") {
		t.Errorf("stdout %q: want %q", stdout, good+": 1 match")
	}
}

// TestCompactCommand rescans a dataset whose files all changed, which
// leaves the replaced records' space in the index, then compacts: the
// index shrinks, and every command answers as before.
func TestCompactCommand(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "demo", "original")
	ds := filepath.Join(t.TempDir(), "ds")
	if err := os.CopyFS(ds, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(t.TempDir(), "idx")
	for round := range 4 {
		when := time.Now().Add(time.Duration(round) * time.Hour)
		err := filepath.WalkDir(ds, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return os.Chtimes(p, when, when)
		})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, ds); code != exitOK {
			t.Fatalf("scan %d: exit %d: %s", round, code, stderr)
		}
	}
	answers := func() []string {
		var out []string
		for _, args := range [][]string{{"datasets", "--json"}, {"clusters", "--json"}, {"lineage", "--json"}, {"check"}} {
			code, stdout, stderr := runCmd(t, nil, append(args, "--index", idx)...)
			if code != exitOK {
				t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
			}
			out = append(out, stdout)
		}
		return out
	}
	before := answers()
	code, stdout, stderr := runCmd(t, nil, "compact", "--json", "--index", idx)
	if code != exitOK {
		t.Fatalf("compact: exit %d: %s", code, stderr)
	}
	var res struct {
		Index       string  `json:"index"`
		BytesBefore int64   `json:"bytes_before"`
		BytesAfter  int64   `json:"bytes_after"`
		Records     int64   `json:"records"`
		Seconds     float64 `json:"seconds"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("compact --json: %v\n%s", err, stdout)
	}
	t.Logf("compact: %+v", res)
	if res.BytesAfter <= 0 || res.BytesAfter*2 > res.BytesBefore || res.Records == 0 {
		t.Errorf("compact after 4 scans of changed files: %+v; want the index at least halved", res)
	}
	if got, want := answers(), before; !slices.Equal(got, want) {
		t.Errorf("answers changed by compact:\n got %q\nwant %q", got, want)
	}
	code, stdout, stderr = runCmd(t, nil, "compact", "--index", idx)
	if code != exitOK || !strings.HasPrefix(stdout, "compacted ") {
		t.Errorf("compact: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCmd(t, nil, "compact", "--index", filepath.Join(t.TempDir(), "none")); code != exitFailure || !strings.Contains(stderr, "no index there") {
		t.Errorf("compact of no index: exit %d, stderr %q", code, stderr)
	}
}
