package bench

import (
	"context"
	"image"
	"io/fs"
	"math"
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

// RealHashes returns up to n pHashes of real images, for running the index
// workload on the bit statistics and the clumping of real hashes rather
// than on random ones. From each image file under dir it takes up to three
// frames (0, 10 and 20, so a clip does not flood the set with near-identical
// frames), shrinks each to at most 256 pixels a side, and in six
// brightness versions (gamma 0.6 to 2: near-duplicates of each other)
// cuts it into windows: the whole frame, then grids of 2x2, 4x4 and 8x8.
// Windows under 16 pixels or featureless (a grey-level standard deviation
// under 4: background) are dropped. Every window contributes the pHashes of
// its eight rotations and mirrors, as a collection with flipped copies
// would. On the shared corpus this gives about a million hashes.
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
	var frames []*image.NRGBA
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		_, _ = ingest.Decode(data, ingest.Options{}, func(f ingest.Frame) error {
			if f.Index == 0 || f.Index == 10 || f.Index == 20 {
				frames = append(frames, imaging.Fit(f.Image, 256, 256, imaging.Box))
			}
			return nil
		})
	}
	// One task per frame and brightness; results are kept in task order so
	// the set does not depend on scheduling.
	gammas := []float64{1, 0.6, 0.8, 1.25, 1.6, 2}
	results := make([][]uint64, len(frames)*len(gammas))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for t := range results {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			img := frames[t/len(gammas)]
			if gm := gammas[t%len(gammas)]; gm != 1 {
				img = imaging.AdjustGamma(img, gm)
			}
			results[t] = windowHashes(hash.NewHasher(), img)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []uint64
	for _, r := range results {
		out = append(out, r...)
	}
	// Shuffle so that a prefix is a fair sample.
	rng := rand.New(rand.NewPCG(seed, 3))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// windowHashes returns the eight dihedral pHashes of every non-flat window
// of img at grid sizes 1, 2, 4 and 8.
func windowHashes(h *hash.Hasher, img *image.NRGBA) []uint64 {
	var out []uint64
	b := img.Bounds()
	for _, grid := range []int{1, 2, 4, 8} {
		w, ht := b.Dx()/grid, b.Dy()/grid
		if w < 16 || ht < 16 {
			break
		}
		for gy := range grid {
			for gx := range grid {
				r := image.Rect(b.Min.X+gx*w, b.Min.Y+gy*ht, b.Min.X+(gx+1)*w, b.Min.Y+(gy+1)*ht)
				sub := img.SubImage(r).(*image.NRGBA)
				if greyStdDev(sub) < 4 {
					continue
				}
				d := h.Dihedral(sub)
				out = append(out, d[:]...)
			}
		}
	}
	return out
}

// greyStdDev is the standard deviation of the green channel, a cheap
// stand-in for luminance.
func greyStdDev(img *image.NRGBA) float64 {
	var s, ss, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):img.PixOffset(b.Max.X, y)]
		for i := 1; i < len(row); i += 4 {
			v := float64(row[i])
			s += v
			ss += v * v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	m := s / n
	return math.Sqrt(max(0, ss/n-m*m))
}
