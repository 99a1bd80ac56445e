// Package golden is the tests' golden-file check: the pinned output of a
// measurement or decoder lives in a package's testdata/, and a test
// compares what it computes with it, or rewrites it when run with -update.
// It exists so that the packages whose goldens are line-oriented tables
// (hash, ingest, bench) share one comparison instead of a copy each.
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check compares got with the file at path line by line, reporting each
// line that differs, or writes got there when update is set (the caller's
// -update flag).
func Check(tb testing.TB, path, got string, update bool) {
	tb.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			tb.Errorf("%s line %d:\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}
