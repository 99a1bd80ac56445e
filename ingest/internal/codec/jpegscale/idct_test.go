package jpegscale

import (
	"math"
	"math/rand/v2"
	"testing"
)

// exactScaled is the definition the reduced transforms implement: the mean
// of each s x s group of the exact 8x8 inverse DCT of blk (natural order),
// plus 128, rounded half up and clamped. The DC term, DC/8 everywhere, is
// kept apart so that ties (DC = 8k+4 with no AC in the group) are exact.
func exactScaled(blk *[64]int32, s int) []byte {
	basis := func(x, u int) float64 {
		c := 0.5
		if u == 0 {
			c = 0.5 / math.Sqrt2
		}
		return c * math.Cos(float64((2*x+1)*u)*math.Pi/16)
	}
	var full [8][8]float64
	for y := range 8 {
		for x := range 8 {
			for v := range 8 {
				for u := range 8 {
					if u|v == 0 {
						continue
					}
					full[y][x] += basis(y, v) * basis(x, u) * float64(blk[v*8+u])
				}
			}
		}
	}
	n := 8 / s
	out := make([]byte, n*n)
	for oy := range n {
		for ox := range n {
			sum := 0.0
			for y := oy * s; y < oy*s+s; y++ {
				for x := ox * s; x < ox*s+s; x++ {
					sum += full[y][x]
				}
			}
			ac := sum / float64(s*s)
			if math.Abs(ac) < 1e-9 {
				ac = 0
			}
			v := math.Floor(float64(blk[0])/8 + ac + 128 + 0.5)
			out[oy*n+ox] = byte(max(0, min(255, v)))
		}
	}
	return out
}

// TestIDCTAgainstDefinition runs the reduced transforms on random sparse
// and dense blocks and compares them with the float64 definition: every
// sample must be within one count, and all but those within about 1e-4 of
// a rounding boundary exact.
func TestIDCTAgainstDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []int{1, 2, 4, 8} {
		n := 8 / s
		total, exact := 0, 0
		trials := 1000
		if *full {
			trials = 10000
		}
		for trial := range trials {
			var blk [64]int32
			last := 0
			density := []int{1, 3, 10, 64}[trial%4]
			for range density {
				k := rng.IntN(64)
				if trial%4 < 3 {
					k = rng.IntN(min(64, 4*density)) // low frequencies, as in real blocks
				}
				blk[unzig[k]] = int32(rng.IntN(801) - 400)
				last = max(last, k)
			}
			blk[0] = int32(rng.IntN(2001) - 1000)
			want := exactScaled(&blk, s)
			got := make([]byte, 64)
			if s == 8 {
				got[0] = dcPixel(blk[0])
			} else {
				idctN(n, &blk, int(prefixRows[last]), got, n)
			}
			for i := range want {
				d := int(got[i]) - int(want[i])
				if d < -1 || d > 1 {
					t.Fatalf("scale %d trial %d sample %d: got %d, want %d", s, trial, i, got[i], want[i])
				}
				total++
				if d == 0 {
					exact++
				}
			}
		}
		t.Logf("scale %d: %d of %d samples exact", s, exact, total)
		if float64(exact) < 0.999*float64(total) {
			t.Errorf("scale %d: only %d of %d samples exact", s, exact, total)
		}
	}
}

// TestIDCTMatrices recomputes the constants of idct.go from their
// definition (the n x 8 averaged basis matrices, times 2^16).
func TestIDCTMatrices(t *testing.T) {
	basis := func(x, u int) float64 {
		c := 0.5
		if u == 0 {
			c = 0.5 / math.Sqrt2
		}
		return c * math.Cos(float64((2*x+1)*u)*math.Pi/16)
	}
	a := func(s, k, u int) int64 {
		sum := 0.0
		for x := k * s; x < k*s+s; x++ {
			sum += basis(x, u)
		}
		return int64(math.Round(sum / float64(s) * 65536))
	}
	tests := []struct {
		name      string
		got, want int64
	}{
		{"cK0", cK0, a(1, 0, 0)},
		{"c8a", c8a, a(1, 0, 2)},
		{"c8b", c8b, a(1, 0, 6)},
		{"c8d1", c8d1, a(1, 0, 1)},
		{"c8d3", c8d3, a(1, 0, 3)},
		{"c8d5", c8d5, a(1, 0, 5)},
		{"c8d7", c8d7, a(1, 0, 7)},
		{"c4e2", c4e2, a(2, 0, 2)},
		{"c4e6", c4e6, -a(2, 0, 6)},
		{"c4o01", c4o01, a(2, 0, 1)},
		{"c4o03", c4o03, a(2, 0, 3)},
		{"c4o05", c4o05, -a(2, 0, 5)},
		{"c4o07", c4o07, -a(2, 0, 7)},
		{"c4o11", c4o11, a(2, 1, 1)},
		{"c4o13", c4o13, -a(2, 1, 3)},
		{"c4o15", c4o15, a(2, 1, 5)},
		{"c4o17", c4o17, -a(2, 1, 7)},
		{"c2o1", c2o1, a(4, 0, 1)},
		{"c2o3", c2o3, -a(4, 0, 3)},
		{"c2o5", c2o5, a(4, 0, 5)},
		{"c2o7", c2o7, -a(4, 0, 7)},
		{"scale 2 drops u=4", 0, a(2, 0, 4)},
		{"scale 4 drops u=2", 0, a(4, 0, 2)},
		{"scale 4 drops u=6", 0, a(4, 0, 6)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}
