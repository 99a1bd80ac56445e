package bench

import (
	"context"
	"image"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/disintegration/imaging"
	"golang.org/x/sync/errgroup"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/ingest"
)

// RealHashes returns n pHashes of real images, for running the index
// workload on the bit statistics and the clumping of real hashes rather
// than on random ones: first the pHash of every frame of every image file
// under dir, then pHashes of random crops of those frames (each side 50% to
// 100% of the frame's, anywhere in it) until there are n. Crops of one
// frame are near-duplicates of each other at all sorts of distances, as the
// copies in a real collection are. Frames are shrunk to at most 160 pixels
// a side first, so a million crops take about a minute.
func RealHashes(ctx context.Context, dir string, n int, seed uint64) ([]uint64, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext != ".md" && ext != ".tsv" && ext != ".txt" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	h := hash.NewHasher()
	var frames []image.Image
	var out []uint64
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		_, _ = ingest.Decode(data, ingest.Options{}, func(f ingest.Frame) error {
			out = append(out, h.PHash(f.Image))
			frames = append(frames, imaging.Fit(f.Image, 160, 160, imaging.Box))
			return nil
		})
	}
	if len(frames) == 0 {
		return nil, nil
	}
	if len(out) >= n {
		return out[:n], nil
	}
	base := len(out)
	out = append(out, make([]uint64, n-base)...)
	workers := runtime.GOMAXPROCS(0)
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			h := hash.NewHasher()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := base + w; i < n; i += workers {
				if (i-base)%4096 == w && ctx.Err() != nil {
					return ctx.Err()
				}
				img := frames[rng.IntN(len(frames))]
				b := img.Bounds()
				cw := max(1, b.Dx()/2+rng.IntN(b.Dx()/2+1))
				ch := max(1, b.Dy()/2+rng.IntN(b.Dy()/2+1))
				x := b.Min.X + rng.IntN(b.Dx()-cw+1)
				y := b.Min.Y + rng.IntN(b.Dy()-ch+1)
				sub := img.(*image.NRGBA).SubImage(image.Rect(x, y, x+cw, y+ch))
				out[i] = h.PHash(sub)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
