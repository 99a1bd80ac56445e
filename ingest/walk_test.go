package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// walked is what a walk reported for one entry: its path and either a
// digest of its content or its error.
func walkAll(tb testing.TB, root string, opts WalkOptions) []string {
	tb.Helper()
	var got []string
	err := Walk(context.Background(), root, opts, func(e *Entry) error {
		data, err := e.ReadAll()
		if err != nil {
			got = append(got, fmt.Sprintf("%s ERR %v", e.Path, err))
			return nil
		}
		got = append(got, fmt.Sprintf("%s %d %x", e.Path, len(data), sha256.Sum256(data)))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// writeTree creates files (path -> content) under dir.
func writeTree(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

type member struct {
	name, content string
}

func zipBytes(tb testing.TB, members []member) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: time.Unix(1e9, 0)})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, m.content); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func tarBytes(tb testing.TB, members []member, gz bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var gw *gzip.Writer
	if gz {
		gw = gzip.NewWriter(&buf)
		w = gw
	}
	tw := tar.NewWriter(w)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.content)), ModTime: time.Unix(1e9, 0), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(tw, m.content); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if gw != nil {
		if err := gw.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestWalkFolderAndArchivesAgree(t *testing.T) {
	members := []member{
		{"README.md", "# data\nLicense: CC-BY-4.0\n"},
		{"train/a.png", string(readFixture(t, "raster/gray8.png"))},
		{"train/b.jpg", string(readFixture(t, "raster/baseline.jpg"))},
		{"test/c.png", string(readFixture(t, "raster/rgb8.png"))},
	}
	dir := t.TempDir()
	folder := filepath.Join(dir, "set")
	files := map[string]string{}
	for _, m := range members {
		files[m.name] = m.content
	}
	writeTree(t, folder, files)
	archives := map[string][]byte{
		"set.zip":    zipBytes(t, members),
		"set.tar":    tarBytes(t, members, false),
		"set.tar.gz": tarBytes(t, members, true),
		"set.tgz":    tarBytes(t, members, true),
	}
	want := walkAll(t, folder, WalkOptions{})
	if len(want) != len(members) {
		t.Fatalf("folder walk found %d entries, want %d: %v", len(want), len(members), want)
	}
	for name, data := range archives {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := walkAll(t, p, WalkOptions{})
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\ngot  %v\nwant %v", name, got, want)
		}
		if got, want := DatasetName(p), "set"; got != want {
			t.Errorf("DatasetName(%s) = %q, want %q", name, got, want)
		}
	}
}

func TestWalkNestedArchives(t *testing.T) {
	png := string(readFixture(t, "raster/gray8.png"))
	inner := zipBytes(t, []member{{"x/1.png", png}})
	innerTar := tarBytes(t, []member{{"2.png", png}}, true)
	deep := zipBytes(t, []member{{"deeper.zip", string(inner)}})
	gzFile := func() string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(png))
		w.Close()
		return b.String()
	}()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"inner.zip":     string(inner),
		"sub/inner.tgz": string(innerTar),
		"deep.zip":      string(deep),
		"single.png.gz": gzFile,
	})
	got := walkAll(t, dir, WalkOptions{})
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(png)))
	want := []string{
		"deep.zip!/deeper.zip ERR too large: archive deep.zip!/deeper.zip exceeds nesting depth limit of 1",
		"inner.zip!/x/1.png 1037 " + sum,
		"single.png.gz 1037 " + sum,
		"sub/inner.tgz!/2.png 1037 " + sum,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWalkRefusesNonLocalNames(t *testing.T) {
	members := []member{{"../evil.png", "x"}, {"/abs.png", "y"}, {"ok/../../up.png", "z"}, {"good.txt", "fine"}}
	dir := t.TempDir()
	for _, name := range []string{"a.zip", "a.tar"} {
		data := zipBytes(t, members)
		if name == "a.tar" {
			data = tarBytes(t, members, false)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		got := walkAll(t, p, WalkOptions{})
		refused := 0
		for _, g := range got {
			if strings.Contains(g, "is not a local path; refused") {
				refused++
			}
		}
		if refused != 3 || len(got) != 4 {
			t.Errorf("%s: got %v, want 3 refusals and good.txt", name, got)
		}
	}
}

func TestWalkLimits(t *testing.T) {
	zeros := strings.Repeat("\x00", 3<<20)
	dir := t.TempDir()
	p := filepath.Join(dir, "bomb.zip")
	os.WriteFile(p, zipBytes(t, []member{{"zeros.dcm", zeros}, {"small.txt", "hello"}}), 0o644)

	got := walkAll(t, p, WalkOptions{})
	if !strings.Contains(got[1], "exceeds compression ratio limit of 1000:1") {
		t.Errorf("zip bomb member: got %q", got[1])
	}
	got = walkAll(t, p, WalkOptions{MaxFileSize: 1 << 20})
	if want := "zeros.dcm ERR too large: file of 3145728 bytes exceeds file size limit of 1048576 bytes"; got[1] != want {
		t.Errorf("oversized member: got %q, want %q", got[1], want)
	}
	tp := filepath.Join(dir, "big.tar")
	os.WriteFile(tp, tarBytes(t, []member{{"zeros.dcm", zeros}}, false), 0o644)
	got = walkAll(t, tp, WalkOptions{MaxFileSize: 1 << 20})
	if want := "zeros.dcm ERR too large: file of 3145728 bytes exceeds file size limit of 1048576 bytes"; got[0] != want {
		t.Errorf("oversized tar member: got %q, want %q", got[0], want)
	}
}

func TestWalkSymlinks(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside")
	root := filepath.Join(dir, "root")
	writeTree(t, outside, map[string]string{"secret.png": "s"})
	writeTree(t, root, map[string]string{"a/in.txt": "inside"})
	if err := os.Symlink(filepath.Join(outside, "secret.png"), filepath.Join(root, "escape.png")); err != nil {
		t.Skip("symlinks not available:", err)
	}
	os.Symlink(outside, filepath.Join(root, "escapedir"))
	os.Symlink(filepath.Join(root, "a", "in.txt"), filepath.Join(root, "link.txt"))
	got := walkAll(t, root, WalkOptions{})
	want := []string{
		"a/in.txt 6 " + fmt.Sprintf("%x", sha256.Sum256([]byte("inside"))),
		"escape.png ERR symlink points outside the dataset root; not followed",
		"escapedir ERR symlink points outside the dataset root; not followed",
		"link.txt 6 " + fmt.Sprintf("%x", sha256.Sum256([]byte("inside"))),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWalkBrokenArchives(t *testing.T) {
	png := string(readFixture(t, "raster/gray8.png"))
	members := []member{{"a.png", png}, {"b.png", png}, {"c.png", png}}
	tgz := tarBytes(t, members, true)
	dir := t.TempDir()
	// A truncated tar.gz: the members before the cut are reported, then the
	// archive itself as corrupt.
	p := filepath.Join(dir, "cut.tar.gz")
	os.WriteFile(p, tgz[:len(tgz)*2/3], 0o644)
	got := walkAll(t, p, WalkOptions{})
	last := got[len(got)-1]
	if !strings.Contains(strings.Join(got, "\n"), "corrupt") {
		t.Errorf("truncated tar.gz: no corrupt entry in %v", got)
	}
	_ = last
	// A nested bad gzip inside a folder dataset is one failed entry.
	writeTree(t, filepath.Join(dir, "f"), map[string]string{"bad.tgz": "\x1f\x8b\x08\x00garbage", "ok.png": png})
	got = walkAll(t, filepath.Join(dir, "f"), WalkOptions{})
	if len(got) != 2 || !strings.HasPrefix(got[0], "bad.tgz ERR corrupt") {
		t.Errorf("bad gzip: got %v", got)
	}
	// An encrypted zip member is refused by name.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "secret.png", Method: zip.Store, Flags: 0x1})
	w.Write([]byte(png))
	zw.Close()
	ep := filepath.Join(dir, "enc.zip")
	os.WriteFile(ep, buf.Bytes(), 0o644)
	got = walkAll(t, ep, WalkOptions{})
	if want := "secret.png ERR encrypted zip member"; len(got) != 1 || got[0] != want {
		t.Errorf("encrypted: got %v, want %q", got, want)
	}
}

func TestWalkCancel(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 50; i++ {
		files[fmt.Sprintf("f%02d.txt", i)] = "x"
	}
	writeTree(t, dir, files)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Walk(ctx, dir, WalkOptions{}, func(e *Entry) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 10 {
		t.Errorf("err = %v after %d entries, want context.Canceled after 10", err, n)
	}
}

func TestWalkNotADataset(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(p, []byte("hello"), 0o644)
	if err := Walk(context.Background(), p, WalkOptions{}, func(*Entry) error { return nil }); err == nil {
		t.Error("walking a plain file: want an error")
	}
}

func FuzzWalkArchive(f *testing.F) {
	png := "\x89PNG\r\n\x1a\n"
	f.Add(zipBytes(f, []member{{"a.png", png}, {"d/b.txt", "hi"}}))
	f.Add(tarBytes(f, []member{{"a.png", png}}, false))
	f.Add(tarBytes(f, []member{{"a.png", png}, {"in.zip", string(zipBytes(f, []member{{"c", "x"}}))}}, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "a")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = Walk(context.Background(), p, WalkOptions{MaxFileSize: 1 << 20}, func(e *Entry) error {
			_, _ = e.ReadAll()
			return nil
		})
	})
}
