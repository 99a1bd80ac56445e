package main

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// gen runs generate with small sizes and returns the files written,
// relative to dir and sorted.
func gen(tb testing.TB, c config, dir string) []string {
	tb.Helper()
	c.jobs, c.quiet = 2, true
	if c.jpegW == 0 {
		c.jpegW, c.jpegH, c.dcmSize, c.frames = 96, 64, 32, 3
	}
	if err := generate(context.Background(), c, dir, io.Discard); err != nil {
		tb.Fatal(err)
	}
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(got)
	return got
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name string
		c    config
		want string
	}{
		{"small", config{kind: "small", n: 4, seed: 1}, "d000/s0000000.png d000/s0000001.jpg d000/s0000002.png d000/s0000003.jpg"},
		{"small from 999", config{kind: "small", n: 2, start: 999, seed: 1}, "d000/s0000999.jpg d001/s0001000.png"},
		{"large", config{kind: "large", n: 2, seed: 1}, "l0000.jpg l0001.dcm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			got := gen(t, tt.c, dir)
			if strings.Join(got, " ") != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
			for _, f := range got {
				p := filepath.Join(dir, f)
				if strings.HasSuffix(f, ".dcm") {
					checkDICOM(t, p, 32, 3)
					continue
				}
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				img, _, err := image.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if b := img.Bounds(); tt.c.kind == "small" && (b.Dx() < 64 || b.Dx() > 512 || b.Dy() < 64 || b.Dy() > 512) {
					t.Errorf("%s: %v, want 64-512 a side", f, b)
				}
			}
		})
	}
}

// checkDICOM parses a written DICOM with the library that wrote it and
// checks its geometry.
func checkDICOM(tb testing.TB, path string, size, frames int) {
	tb.Helper()
	ds, err := dicom.ParseFile(path, nil)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	pd, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	info := dicom.MustGetPixelDataInfo(pd.Value)
	if len(info.Frames) != frames {
		tb.Fatalf("%s: %d frames, want %d", path, len(info.Frames), frames)
	}
	nf, err := info.Frames[0].GetNativeFrame()
	if err != nil {
		tb.Fatal(err)
	}
	if nf.Rows() != size || nf.Cols() != size || nf.BitsPerSample() != 16 {
		tb.Errorf("%s: %dx%d, %d bits, want %dx%d, 16", path, nf.Cols(), nf.Rows(), nf.BitsPerSample(), size, size)
	}
}

// TestRewrite checks what the fault script relies on: the same seed gives
// the same bytes, and another seed rewrites a file in place with new ones.
func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	gen(t, config{kind: "small", n: 3, seed: 1}, dir)
	p := filepath.Join(dir, "d000", "s0000001.jpg")
	first, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		seed uint64
		same bool
	}{
		{"same seed", 1, true},
		{"other seed", 7, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gen(t, config{kind: "small", n: 1, start: 1, seed: tt.seed}, dir)
			if len(got) != 3 {
				t.Fatalf("files now %v, want the same three", got)
			}
			now, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(now, first) != tt.same {
				t.Errorf("content unchanged = %v, want %v", bytes.Equal(now, first), tt.same)
			}
		})
	}
}
