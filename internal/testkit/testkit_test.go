package testkit

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestImageMagickSkipsStandIns puts a `convert` that is not ImageMagick
// first on PATH: ImageMagick must skip the test rather than hand it over.
func TestImageMagickSkipsStandIns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script as the stand-in")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'GraphicsMagick 1.3.40 2023-01-14 Q16 http://www.GraphicsMagick.org/'\n"
	if err := os.WriteFile(filepath.Join(dir, "convert"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	skipped := false
	t.Run("stand-in", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		ImageMagick(t)
		t.Error("a convert that says it is GraphicsMagick was taken for ImageMagick")
	})
	if !skipped {
		t.Error("the test using the stand-in was not skipped")
	}
}
