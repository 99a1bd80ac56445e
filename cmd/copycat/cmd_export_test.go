package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// mustRun runs a command line and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, nil, args...)
	if code != exitOK {
		t.Fatalf("copycat %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// saltedCopy makes a new index folder holding a copy of base: every index
// made this way has base's salt, so patient-ID digests compare across
// them, as they do between the machines of a sharded scan that start from
// one index folder.
func saltedCopy(t *testing.T, base, dir string) string {
	t.Helper()
	testkit.CopyTree(t, base, dir)
	return dir
}

// emptyIndex makes an index with its salt and no dataset.
func emptyIndex(t *testing.T, dir string) string {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "scan", "--index", dir, empty)
	mustRun(t, "forget", "--index", dir, "empty")
	return dir
}

// recordDump lists every dataset's files and images as lines, each image
// as a digest of its whole record but its ID (local to an index): two
// indexes with the same dump hold the same records.
func recordDump(t *testing.T, dir string) []string {
	t.Helper()
	ctx := context.Background()
	st := openReadOnly(t, dir)
	defer st.Close()
	infos, err := st.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range infos {
		out = append(out, fmt.Sprintf("dataset %s %s files=%d images=%d failures=%d complete=%v", d.Name, d.Source, d.Files, d.Images, d.Failures, d.Complete))
		for f, err := range st.Files(ctx, d.Name) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("file %+v", f))
		}
		for im, err := range st.Images(ctx, d.Name) {
			if err != nil {
				t.Fatal(err)
			}
			// The min-max fingerprint is printed apart: in the struct,
			// %+v would print its address.
			mm := im.MinMax
			im.ID, im.MinMax = 0, nil
			out = append(out, fmt.Sprintf("image %s %s %d %x", im.Dataset, im.Path, im.Frame, sha256.Sum256(fmt.Appendf(nil, "%+v %+v", im, mm))))
		}
	}
	return out
}

// openReadOnly opens an index with the index package, to read its
// records; the caller closes it.
func openReadOnly(t *testing.T, dir string) *index.Store {
	t.Helper()
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// withoutImageIDs decodes JSON output and drops every "image_id" field:
// image IDs are allocated by each index, in the order it wrote images.
func withoutImageIDs(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, s)
	}
	var strip func(any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "image_id")
			for _, x := range v {
				strip(x)
			}
		case []any:
			for _, x := range v {
				strip(x)
			}
		}
	}
	strip(v)
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameLines(t *testing.T, what string, want, got []string) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Errorf("%s differ:\n%s", what, testkit.Diff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

// TestShardScanImportEqualsFullScan scans N shards into N indexes, exports
// each, imports the N exports into one index, and checks that it holds
// what one full scan holds: the same records, clusters and lineage.
func TestShardScanImportEqualsFullScan(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	tests := []struct {
		name     string
		datasets func(t *testing.T) []string
		shards   int
	}{
		{"demo", func(*testing.T) []string {
			return []string{filepath.Join(demo, "original"), filepath.Join(demo, "upload.zip"),
				filepath.Join(demo, "kaggle-copy.tar.gz"), filepath.Join(demo, "broken")}
		}, 3},
		{"corpus", func(t *testing.T) []string {
			c := testkit.Corpus(t)
			return []string{filepath.Join(c, "dicom"), filepath.Join(c, "medical_png_jpeg"), filepath.Join(c, "natural")}
		}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raceEnabled && tt.name == "corpus" {
				t.Skip("the corpus scans take minutes under the race detector; make test runs this without it")
			}
			ds := tt.datasets(t)
			tmp := t.TempDir()
			base := emptyIndex(t, filepath.Join(tmp, "base"))
			full := saltedCopy(t, base, filepath.Join(tmp, "full"))
			mustRun(t, append([]string{"scan", "--index", full}, ds...)...)

			var exports []string
			shardFiles := 0
			for k := 1; k <= tt.shards; k++ {
				idx := saltedCopy(t, base, filepath.Join(tmp, fmt.Sprintf("shard%d", k)))
				mustRun(t, append([]string{"scan", "--index", idx, "--shard", fmt.Sprintf("%d/%d", k, tt.shards)}, ds...)...)
				out := filepath.Join(tmp, fmt.Sprintf("export%d", k))
				var sum struct{ Files int }
				if err := json.Unmarshal([]byte(mustRun(t, "export", "--index", idx, "--parquet", out, "--json")), &sum); err != nil {
					t.Fatal(err)
				}
				if sum.Files == 0 {
					t.Errorf("shard %d/%d has no file: the split is not spread", k, tt.shards)
				}
				shardFiles += sum.Files
				exports = append(exports, out)
			}
			union := saltedCopy(t, base, filepath.Join(tmp, "union"))
			mustRun(t, append([]string{"import", "--index", union}, exports...)...)

			wantRecords := recordDump(t, full)
			if n := countPrefix(wantRecords, "file "); shardFiles != n {
				t.Errorf("the shards hold %d files, the full scan %d", shardFiles, n)
			}
			sameLines(t, "records", wantRecords, recordDump(t, union))
			for _, cmd := range []string{"clusters", "lineage"} {
				want := withoutImageIDs(t, mustRun(t, cmd, "--json", "--index", full))
				got := withoutImageIDs(t, mustRun(t, cmd, "--json", "--index", union))
				if want != got {
					t.Errorf("%s --json differ:\n%s", cmd, testkit.Diff(want, got))
				}
			}
			mustRun(t, "check", "--index", union)

			// Importing the same exports again changes nothing.
			var again struct{ Files, Unchanged int }
			if err := json.Unmarshal([]byte(mustRun(t, append([]string{"import", "--json", "--index", union}, exports...)...)), &again); err != nil {
				t.Fatal(err)
			}
			if again.Files != 0 || again.Unchanged != shardFiles {
				t.Errorf("second import wrote %d files and kept %d, want 0 and %d", again.Files, again.Unchanged, shardFiles)
			}
			sameLines(t, "records after a second import", wantRecords, recordDump(t, union))
		})
	}
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestImportOtherSalt imports into an index with another salt: the
// patient-ID digests are dropped, everything else is kept.
func TestImportOtherSalt(t *testing.T) {
	tmp := t.TempDir()
	src, dst := filepath.Join(tmp, "src"), filepath.Join(tmp, "dst")
	mustRun(t, "scan", "--index", src, filepath.Join("..", "..", "testdata", "demo", "original"))
	mustRun(t, "export", "--index", src, "--parquet", filepath.Join(tmp, "ex"))
	var sum struct {
		DigestsDropped int `json:"digests_dropped"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "import", "--json", "--index", dst, filepath.Join(tmp, "ex"))), &sum); err != nil {
		t.Fatal(err)
	}
	digests := 0
	for _, l := range recordDumpDigests(t, src) {
		if l != "" {
			digests++
		}
	}
	if digests == 0 {
		t.Fatal("the demo's DICOMs have no patient-ID digest: the test checks nothing")
	}
	if sum.DigestsDropped != digests {
		t.Errorf("%d digests dropped, want %d", sum.DigestsDropped, digests)
	}
	for _, l := range recordDumpDigests(t, dst) {
		if l != "" {
			t.Errorf("digest %q kept across salts", l)
		}
	}
}

// recordDumpDigests lists the patient-ID digests of every image.
func recordDumpDigests(t *testing.T, dir string) []string {
	t.Helper()
	ctx := context.Background()
	st := openReadOnly(t, dir)
	defer st.Close()
	var out []string
	for im, err := range st.Images(ctx, "original") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, im.PatientIDDigest)
	}
	return out
}

func TestExportImportErrors(t *testing.T) {
	tmp := t.TempDir()
	idx := filepath.Join(tmp, "idx")
	mustRun(t, "scan", "--index", idx, filepath.Join("..", "..", "testdata", "demo", "upload.zip"))
	ex := filepath.Join(tmp, "ex")
	mustRun(t, "export", "--index", idx, "--parquet", ex)
	junk := filepath.Join(tmp, "junk")
	if err := os.Mkdir(junk, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"datasets", "files", "images"} {
		if err := os.WriteFile(filepath.Join(junk, name+".parquet"), []byte("PAR1 not parquet PAR1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	swapped := filepath.Join(tmp, "swapped")
	testkit.CopyTree(t, ex, swapped)
	if err := os.Rename(filepath.Join(swapped, "files.parquet"), filepath.Join(swapped, "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(swapped, "datasets.parquet"), filepath.Join(swapped, "files.parquet")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(swapped, "x"), filepath.Join(swapped, "datasets.parquet")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"export without --parquet", []string{"export", "--index", idx}, exitUsage, "--parquet OUT is required"},
		{"export over an export", []string{"export", "--index", idx, "--parquet", ex}, exitFailure, "exists"},
		{"import nothing", []string{"import", "--index", filepath.Join(tmp, "u1")}, exitUsage, "no export given"},
		{"import a missing folder", []string{"import", "--index", filepath.Join(tmp, "u2"), filepath.Join(tmp, "nope")}, exitFailure, "no such file"},
		{"import a file", []string{"import", "--index", filepath.Join(tmp, "u3"), filepath.Join(ex, "images.parquet")}, exitFailure, "not a folder"},
		{"import junk", []string{"import", "--index", filepath.Join(tmp, "u4"), junk}, exitFailure, "not a valid copycat export"},
		{"import swapped tables", []string{"import", "--index", filepath.Join(tmp, "u5"), swapped}, exitFailure, `table "files", want "datasets"`},
		{"bad shard", []string{"scan", "--index", filepath.Join(tmp, "u6"), "--shard", "4/3", ex}, exitUsage, "K/N"},
		{"shard zero", []string{"scan", "--index", filepath.Join(tmp, "u6"), "--shard", "0/3", ex}, exitUsage, "K/N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.message) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.message)
			}
		})
	}
}
