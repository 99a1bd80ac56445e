package hash

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The kernels of the reduced path add several terms per pass, or run
// several sums side by side, for speed; they promise the same floats as
// adding one term at a time in index order. The plain* functions below are
// those one-term-at-a-time loops: the tests hold the kernels to them bit
// for bit on random data, and BenchmarkKernels times both.

func plainResampleRows(t *tentAxis, in []float64, cols int, dst []float64) {
	for o := range t.out {
		d := dst[o*cols : (o+1)*cols]
		clear(d)
		k0, wt := t.weights(o)
		for i, w := range wt {
			for c := range d {
				d[c] += w * in[(k0+i)*cols+c]
			}
		}
	}
}

func plainResampleCols(t *tentAxis, in []float64, rows int, dst []float64) {
	for r := range rows {
		for o := range t.out {
			var s float64
			k0, wt := t.weights(o)
			for i, w := range wt {
				s += w * in[r*gridExt+k0+i]
			}
			dst[r*t.out+o] = s
		}
	}
}

// plainPHashBlock is phashBlock with one sum at a time.
func plainPHashBlock(h *Hasher) [64]float64 {
	p := h.p64
	var sum float64
	for i, v := range p {
		v = math.Round(v*1024) / 1024
		p[i] = v
		sum += v
	}
	mean := sum / float64(len(p))
	var rows [pSize][8]float64
	for y := range pSize {
		for u := range 8 {
			var s float64
			for x := range pSize {
				if u == 0 {
					s += p[y*pSize+x] - mean
				} else {
					s += (p[y*pSize+x] - mean) * h.cos[u][x]
				}
			}
			rows[y][u] = s
		}
	}
	var coef [64]float64
	for v := range 8 {
		for u := range 8 {
			var s float64
			for y := range pSize {
				s += h.cos[v][y] * rows[y][u]
			}
			coef[8*v+u] = s
		}
	}
	coef[0] = sum
	for i, c := range coef {
		if c < phashRoundOff && c > -phashRoundOff {
			coef[i] = 0
		}
	}
	return coef
}

// plainDCTFolded is dctFolded with one term at a time.
func plainDCTFolded(s *pdqState) [pdqDCT * pdqDCT]float32 {
	const half = pdqSize / 2
	var sum, dif [half][pdqSize]float64
	for k := range half {
		for j := range pdqSize {
			x, y := float64(s.b64[k*pdqSize+j]), float64(s.b64[(pdqSize-1-k)*pdqSize+j])
			sum[k][j], dif[k][j] = x+y, x-y
		}
	}
	var out [pdqDCT * pdqDCT]float32
	for i := range pdqDCT {
		in := &dif
		if i%2 == 1 {
			in = &sum
		}
		var row [pdqSize]float64
		for k := range half {
			for j := range pdqSize {
				row[j] += float64(s.d[i*pdqSize+k]) * in[k][j]
			}
		}
		var fs, fd [half]float64
		for k := range half {
			fs[k], fd[k] = row[k]+row[pdqSize-1-k], row[k]-row[pdqSize-1-k]
		}
		for j := range pdqDCT {
			in := &fd
			if j%2 == 1 {
				in = &fs
			}
			var acc float64
			for k := range half {
				acc += float64(s.d[j*pdqSize+k]) * in[k]
			}
			out[i*pdqDCT+j] = float32(acc)
		}
	}
	return out
}

// plainPDQMapped is the 64x64 that pdqMapped thresholds, one term at a
// time, for a grey image.
func plainPDQMapped(s *pdqState, img *image.Gray) [pdqSize * pdqSize]float32 {
	var out [pdqSize * pdqSize]float32
	row := make([]float64, img.Rect.Dx())
	for k := range pdqSize {
		clear(row)
		t0, wt := s.ay.weights(k)
		for i, wy := range wt {
			if wy == 0 {
				continue
			}
			for u := range row {
				row[u] += wy * float64(img.Pix[(t0+i)*img.Stride+u])
			}
		}
		for l := range pdqSize {
			x0, wt := s.ax.weights(l)
			var sum float64
			for i, wx := range wt {
				sum += wx * row[x0+i]
			}
			out[k*pdqSize+l] = float32(sum)
		}
	}
	return out
}

func plainMedian64(c *[64]float64) float64 {
	sorted := *c
	slices.Sort(sorted[:])
	return sorted[31]/2 + sorted[32]/2
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

func sameBits32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func randomFloats(rng *rand.Rand, n int) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = rng.Float64() * 255
	}
	return g
}

func randomGrey(rng *rand.Rand, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

func TestResampleMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := randomFloats(rng, gridExt*gridExt)
	for _, n := range []int{5, 45, 64, 90, 120, 128, 160, 333, 1024} {
		for _, out := range []int{pSize, aSize, dW} {
			var ty tentAxis
			ty.set(n, out)

			got := make([]float64, out*gridExt)
			resampleRows(&ty, 0, out, in, gridExt, got)
			want := make([]float64, out*gridExt)
			plainResampleRows(&ty, in, gridExt, want)
			sameBits(t, "resampleRows", got, want)
			if out >= 8 {
				part := make([]float64, 4*gridExt)
				resampleRows(&ty, 4, 8, in, gridExt, part)
				sameBits(t, "resampleRows 4..8", part, want[4*gridExt:8*gridExt])
			}

			for _, rows := range []int{pSize, aSize, 3} {
				got := make([]float64, rows*out)
				resampleCols(&ty, in, rows, got)
				want := make([]float64, rows*out)
				plainResampleCols(&ty, in, rows, want)
				sameBits(t, "resampleCols", got, want)
			}
		}
	}
}

// TestTentAxisReuse sets one tentAxis to many sizes in turn: its weights
// must be those of a fresh one every time.
func TestTentAxisReuse(t *testing.T) {
	var reused tentAxis
	for _, n := range []int{1024, 5, 333, 64, 90, 4000, 7, 128} {
		for _, out := range []int{pSize, dW, aSize} {
			reused.set(n, out)
			var fresh tentAxis
			fresh.set(n, out)
			for o := range out {
				k0, w := reused.weights(o)
				k1, w1 := fresh.weights(o)
				if k0 != k1 || !slices.Equal(w, w1) {
					t.Fatalf("set(%d, %d) after other sizes differs from a fresh set in row %d", n, out, o)
				}
			}
		}
	}
}

func TestPHashBlockMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := NewHasher()
	for range 20 {
		copy(h.p64[:], randomFloats(rng, len(h.p64)))
		want := plainPHashBlock(h)
		h.phashBlock()
		sameBits(t, "phashBlock", h.coef[:], want[:])
	}
}

func TestDCTFoldedMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := newPDQState()
	for range 10 {
		for i := range s.b64 {
			s.b64[i] = float32(rng.Float64() * 255)
		}
		want := plainDCTFolded(s)
		s.dctFolded()
		sameBits32(t, "dctFolded", s.b16[:], want[:])
	}
}

func TestPDQMappedMatchesPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ w, h, scale int }{{480, 360, 4}, {640, 480, 4}, {1282, 1110, 8}, {150, 103, 2}, {64, 64, 1}} {
		img := randomGrey(rng, (c.w+c.scale-1)/c.scale, (c.h+c.scale-1)/c.scale)
		h := NewHasher()
		h.pdqMapped(img, c.scale, c.w, c.h)
		want := plainPDQMapped(h.pdqs, img)
		sameBits32(t, fmt.Sprintf("%dx%d/%d: b64", c.w, c.h, c.scale), h.pdqs.b64[:], want[:])
	}
}

func TestWeightedRowsMatchesPlainLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const stride, span = 41, 37 // dst takes the first span values of each row
	src := randomFloats(rng, 9*stride)
	for _, wt := range [][]float64{
		{}, {0.5}, {0, 0.25}, {0.1, 0.2, 0.3}, {0.1, 0, 0.2, 0.3}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {0, 0, 0}, {1, 2, 3, 4, 5, 6, 7, 8, 9},
	} {
		got := make([]float64, span)
		weightedRows(got, wt, src, stride)
		want := make([]float64, span)
		for i, c := range wt {
			for u := range want {
				want[u] += c * src[i*stride+u]
			}
		}
		sameBits(t, "weightedRows", got, want)
	}
}

func TestMedian64(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var c, scratch [64]float64
	for trial := range 2000 {
		for i := range c {
			switch trial % 3 {
			case 0:
				c[i] = rng.NormFloat64()
			case 1:
				c[i] = float64(rng.IntN(5)) // many ties
			default:
				c[i] = float64(i)
			}
		}
		if got, want := median64(&c, &scratch), plainMedian64(&c); got != want {
			t.Fatalf("trial %d: median64 = %v, want %v", trial, got, want)
		}
	}
}

func TestBinRow8MatchesOverlapSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type axis struct{ n, scale, ext int }
	var axes []axis
	for n := 1; n < 3*gridSize; n++ {
		axes = append(axes, axis{n, 1, n})
	}
	// Reduced decodes: n pixels at 1/scale of every original length they
	// can come from, the last pixel standing for 1..scale of its pixels.
	for _, scale := range []int{2, 4, 8} {
		for n := 1; n < gridSize+8; n += 3 {
			for ext := (n-1)*scale + 1; ext <= n*scale; ext++ {
				axes = append(axes, axis{n, scale, ext})
			}
		}
	}
	for _, a := range axes {
		n, scale, ext := a.n, a.scale, a.ext
		var ax axisBins
		ax.set(n, scale, ext)
		row := randomGrey(rng, n, 1).Pix
		var got, want [gridExt]uint64
		binRow8(row, &ax, &got)
		want[0], want[gridExt-1] = uint64(ext)*uint64(row[0]), uint64(ext)*uint64(row[n-1])
		for i := range gridSize {
			// Straight from the definition: pixel x covers
			// [x·scale·gridSize, min((x+1)·scale, ext)·gridSize), bin i
			// covers [i·ext, (i+1)·ext).
			var s uint64
			for x := range n {
				end := min((x+1)*scale, ext) * gridSize
				if ov := min(end, (i+1)*ext) - max(x*scale*gridSize, i*ext); ov > 0 {
					s += uint64(ov) * uint64(row[x])
				}
			}
			want[1+i] = s
		}
		if got != want {
			t.Fatalf("n=%d scale=%d ext=%d (narrow %v): binRow8 differs from the overlap sums", n, scale, ext, ax.narrow)
		}
		if wantNarrow := n < 2*gridSize; scale == 1 && ax.narrow != wantNarrow {
			t.Errorf("n=%d: narrow = %v, want %v", n, ax.narrow, wantNarrow)
		}
	}
}

// BenchmarkKernels times each kernel of the reduced path against its
// one-term-at-a-time form, on the sizes a 480x360 photo decoded at 1/4
// gives (a 120x90 image).
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(21, 22))
	in := randomFloats(rng, gridExt*gridExt)
	var ty64, ty8 tentAxis
	ty64.set(90, pSize)
	ty8.set(90, aSize)
	dst := make([]float64, pSize*gridExt)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
	}
	run("resampleRows64/plain", func() { plainResampleRows(&ty64, in, gridExt, dst) })
	run("resampleRows64/fused", func() { resampleRows(&ty64, 0, pSize, in, gridExt, dst) })
	run("resampleRows8/plain", func() { plainResampleRows(&ty8, in, gridExt, dst) })
	run("resampleRows8/fused", func() { resampleRows(&ty8, 0, aSize, in, gridExt, dst) })
	run("resampleCols/plain", func() { plainResampleCols(&ty64, in, pSize, dst) })
	run("resampleCols/fused", func() { resampleCols(&ty64, in, pSize, dst) })

	h := NewHasher()
	copy(h.p64[:], in)
	p64 := h.p64
	run("phashBlock/plain", func() { plainPHashBlock(h) })
	run("phashBlock/fused", func() { h.p64 = p64; h.phashBlock() })

	var c, scratch [64]float64
	copy(c[:], in)
	run("median64/sort", func() { plainMedian64(&c) })
	run("median64/select", func() { median64(&c, &scratch) })

	s := newPDQState()
	for i := range s.b64 {
		s.b64[i] = float32(in[i])
	}
	run("dctFolded/plain", func() { plainDCTFolded(s) })
	run("dctFolded/fused", func() { s.dctFolded() })

	img := randomGrey(rng, 120, 90)
	h.pdqMapped(img, 4, 480, 360)
	run("sampleMapped/plain", func() { plainPDQMapped(h.pdqs, img) })
	run("sampleMapped/fused", func() { h.pdqs.sampleMapped(img) })

	var ax axisBins
	ax.set(120, 1, 120)
	row := img.Pix[:120]
	var out [gridExt]uint64
	run("binRow8/120", func() { binRow8(row, &ax, &out) })
	ax.narrow = false
	run("binRow8/120-general", func() { binRow8(row, &ax, &out) })

}

// TestDirectMatchesGrid resizes random grey images of many sizes both ways:
// straight from the pixels and through the grid.
func TestDirectMatchesGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	direct, grid := NewHasher(), NewHasher()
	grid.gridOnly = true
	sizes := [][2]int{{1, 1}, {5, 7}, {64, 64}, {120, 90}, {90, 120}, {128, 128}, {129, 3}, {160, 120}, {150, 103}, {191, 192}, {maxDirect, maxDirect}}
	for range 20 {
		sizes = append(sizes, [2]int{1 + rng.IntN(maxDirect), 1 + rng.IntN(maxDirect)})
	}
	var worst float64
	for _, sz := range sizes {
		img := randomGrey(rng, sz[0], sz[1])
		if _, ok := smallLuma(img); !ok {
			t.Fatalf("%dx%d: not taken directly", sz[0], sz[1])
		}
		direct.resize(img, needAll)
		grid.resize(img, needAll)
		for _, c := range []struct {
			name      string
			got, want []float64
		}{{"p64", direct.p64[:], grid.p64[:]}, {"a8", direct.a8[:], grid.a8[:]}, {"d9", direct.d9[:], grid.d9[:]}, {"th", direct.th[:], grid.th[:]}} {
			for i := range c.want {
				d := math.Abs(c.got[i] - c.want[i])
				worst = max(worst, d)
				if d > 1e-9 {
					t.Fatalf("%dx%d: %s[%d] = %v directly, %v through the grid", sz[0], sz[1], c.name, i, c.got[i], c.want[i])
				}
			}
		}
		if got, want := direct.Compute(img), grid.Compute(img); got.PHash != want.PHash || got.DHash != want.DHash || got.AHash != want.AHash || got.Dihedral != want.Dihedral {
			t.Errorf("%dx%d: hashes differ: direct %016x %016x %016x, grid %016x %016x %016x", sz[0], sz[1], got.PHash, got.DHash, got.AHash, want.PHash, want.DHash, want.AHash)
		}
		// Two grey levels: many thumbnail cells average to exactly k+0.5,
		// which both paths must round the same way.
		for i := range img.Pix {
			img.Pix[i] = uint8(100 + rng.IntN(2))
		}
		if got, want := direct.Thumbnail(img), grid.Thumbnail(img); got != want {
			t.Errorf("%dx%d: two-level thumbnails differ", sz[0], sz[1])
		}
	}
	t.Logf("largest difference: %.3g grey levels", worst)
}

// BenchmarkResizePaths times the direct path against the grid path on
// grey images around the sizes a reduced JPEG decode gives, which is what
// maxDirect was chosen by.
func BenchmarkResizePaths(b *testing.B) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, sz := range [][2]int{{120, 90}, {160, 120}, {192, 144}, {256, 192}} {
		img := randomGrey(rng, sz[0], sz[1])
		for _, gridOnly := range []bool{false, true} {
			name := "direct"
			if gridOnly {
				name = "grid"
			}
			b.Run(fmt.Sprintf("%dx%d/%s", sz[0], sz[1], name), func(b *testing.B) {
				h := NewHasher()
				h.gridOnly = gridOnly
				b.ReportAllocs()
				for b.Loop() {
					h.resize(img, needAll)
				}
			})
		}
	}
}
