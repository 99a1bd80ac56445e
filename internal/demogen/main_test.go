package main

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/ingest"
)

func TestDerivedUploads(t *testing.T) {
	out := t.TempDir()
	if err := run(filepath.Join("..", "..", "testdata", "demo", "original"), out); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		archive string
		want    string
	}{
		{"upload.zip", "README.md test/img_3.jpg train/img_1.png train/img_2.png"},
		{"kaggle-copy.tar.gz", "README.md test/0003.jpg test/0004.jpg train/0001.jpg train/0002.jpg"},
	}
	for _, tt := range tests {
		var got []string
		err := ingest.Walk(context.Background(), filepath.Join(out, tt.archive), ingest.WalkOptions{}, func(e *ingest.Entry) error {
			got = append(got, e.Path)
			return e.Err
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %v, want %s", tt.archive, got, tt.want)
		}
	}
}
