package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCountFiles compares the cheap count with what a walk visits.
func TestCountFiles(t *testing.T) {
	demo := filepath.Join("..", "testdata", "demo")
	// A folder with a zip holding a nested zip: an estimate.
	nested := t.TempDir()
	writeZip(t, filepath.Join(nested, "outer.zip"), map[string]string{"a.txt": "a", "inner.zip": "not really"})
	if err := os.WriteFile(filepath.Join(nested, "b.txt"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		root      string
		wantExact bool
	}{
		{"folder", filepath.Join(demo, "original"), true},
		{"broken files", filepath.Join(demo, "broken"), true},
		{"zip", filepath.Join(demo, "upload.zip"), true},
		{"tar.gz", filepath.Join(demo, "kaggle-copy.tar.gz"), false},
		{"whole demo", demo, false},
		{"nested zip", nested, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, exact, err := CountFiles(context.Background(), tt.root)
			if err != nil {
				t.Fatal(err)
			}
			var walked int64
			if err := Walk(context.Background(), tt.root, WalkOptions{}, func(*Entry) error { walked++; return nil }); err != nil {
				t.Fatal(err)
			}
			if exact != tt.wantExact {
				t.Errorf("exact = %v, want %v", exact, tt.wantExact)
			}
			if exact && got != walked {
				t.Errorf("counted %d, the walk visits %d", got, walked)
			}
			if !exact && got > walked {
				t.Errorf("estimate %d over the %d the walk visits", got, walked)
			}
		})
	}
	if _, _, err := CountFiles(context.Background(), filepath.Join(demo, "nope")); err == nil {
		t.Error("no error for a missing root")
	}
}

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMeasureDataset checks the bytes the measure adds up: file sizes, the
// uncompressed sizes of zip members, a gzip file's trailer; and that its
// stop function ends it early.
func TestMeasureDataset(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.png", make([]byte, 1000))
	write("b.dcm", make([]byte, 3000))
	writeZip(t, filepath.Join(dir, "c.zip"), map[string]string{"x.png": strings.Repeat("x", 5000), "y.png": strings.Repeat("y", 7000)})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil { // a blank volume: 1 MiB in about 1 KB
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	write("d.nii.gz", gz.Bytes())
	write("e.gz", []byte("not gzip at all, but long enough"))

	tests := []struct {
		name string
		root string
		want Extent
	}{
		{"plain file", filepath.Join(dir, "a.png"), Extent{Files: 1, Bytes: 1000, Exact: true}},
		{"zip", filepath.Join(dir, "c.zip"), Extent{Files: 2, Bytes: 12000, Exact: true}},
		{"gzip trailer", filepath.Join(dir, "d.nii.gz"), Extent{Files: 1, Bytes: 1 << 20, Exact: true}},
		// A trailer that says less than the file's size: the size wins.
		{"not gzip", filepath.Join(dir, "e.gz"), Extent{Files: 1, Bytes: 32, Exact: true}},
		{"folder", dir, Extent{Files: 6, Bytes: 1000 + 3000 + 12000 + 1<<20 + 32, Exact: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MeasureDataset(context.Background(), tt.root, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}

	got, err := MeasureDataset(context.Background(), dir, func(e Extent) bool { return e.Files >= 2 })
	if err != nil {
		t.Fatal(err)
	}
	if want := (Extent{Files: 2, Bytes: 4000, Exact: true, Stopped: true}); got != want {
		t.Errorf("stopped at 2 files: got %+v, want %+v", got, want)
	}
}
