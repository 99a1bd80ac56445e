package index

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestPreviews writes images with and without previews and checks that
// Preview returns each image's own, nil for one without, that replacing
// and forgetting files delete them (Check finds no orphan), and that the
// records read back carry none (they live under P keys).
func TestPreviews(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, Options{})
	put := func(path string, seed uint64, previews bool) []uint64 {
		t.Helper()
		sc, err := s.BeginWrite("d", "/d")
		if err != nil {
			t.Fatal(err)
		}
		f, imgs := fakeFile(path, seed, 2)
		if previews {
			for i := range imgs {
				imgs[i].Preview = fmt.Appendf(nil, "preview %d/%d", seed, i)
			}
		}
		if err := sc.Put(f, imgs); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Finish(); err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for im, err := range s.Images(ctx, "d") {
			if err != nil {
				t.Fatal(err)
			}
			if im.Path == path {
				ids = append(ids, im.ID)
			}
			if im.Preview != nil {
				t.Errorf("image %d read with its record carries a preview", im.ID)
			}
		}
		return ids
	}
	preview := func(id uint64) []byte {
		t.Helper()
		b, err := s.Preview(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := put("a.png", 1, true)
	for i, id := range first {
		if got, want := preview(id), fmt.Appendf(nil, "preview 1/%d", i); !bytes.Equal(got, want) {
			t.Errorf("Preview(%d) = %q, want %q", id, got, want)
		}
	}
	mustCheck(t, s)
	// The file changes and is read again, without previews (as an older
	// copycat wrote it): the old previews go with the old images.
	second := put("a.png", 2, false)
	for _, id := range append(first, second...) {
		if got := preview(id); got != nil {
			t.Errorf("Preview(%d) = %q, want none", id, got)
		}
	}
	mustCheck(t, s)
	third := put("a.png", 3, true)
	if err := s.Forget(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	for _, id := range third {
		if got := preview(id); got != nil {
			t.Errorf("Preview(%d) of a forgotten image = %q", id, got)
		}
	}
	mustCheck(t, s)
}
