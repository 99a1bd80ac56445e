package ingest

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
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
