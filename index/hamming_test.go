package index

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// plantedHashes returns n hashes: random ones, and for every distance 0..maxDist
// perDist near-duplicates of random earlier hashes at exactly that distance.
// With balanced set, random hashes have exactly 32 ones and bit 0 set, as real
// pHashes do (median threshold, DC coefficient always above it).
func plantedHashes(tb testing.TB, seed uint64, n, maxDist, perDist int, balanced bool) []uint64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	planted := (maxDist + 1) * perDist
	if planted > n/2 {
		tb.Fatalf("plantedHashes: %d planted of %d", planted, n)
	}
	hs := make([]uint64, 0, n)
	for len(hs) < n-planted {
		if balanced {
			hs = append(hs, balancedHash(rng))
		} else {
			hs = append(hs, rng.Uint64())
		}
	}
	for d := 0; d <= maxDist; d++ {
		for range perDist {
			hs = append(hs, flipBits(rng, hs[rng.IntN(n-planted)], d))
		}
	}
	rng.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
	return hs
}

// balancedHash has bit 0 set and 31 other bits of 63 set.
func balancedHash(rng *rand.Rand) uint64 {
	h := uint64(1)
	for bits.OnesCount64(h) < 32 {
		h |= 1 << (1 + rng.IntN(63))
	}
	return h
}

// flipBits flips d distinct random bits of h.
func flipBits(rng *rand.Rand, h uint64, d int) uint64 {
	var m uint64
	for bits.OnesCount64(m) < d {
		m |= 1 << rng.IntN(64)
	}
	return h ^ m
}

// brutePairs compares every pair. It keeps eight hashes in locals so that
// under -race only one slice read in eight is instrumented.
func brutePairs(hs []uint64, r int) []HashPair {
	workers := runtime.GOMAXPROCS(0)
	res := make([][]HashPair, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []HashPair
			for i0 := w * 8; i0 < len(hs); i0 += workers * 8 {
				var h [8]uint64
				n := copy(h[:], hs[i0:])
				h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
				for j := i0 + 1; j < len(hs); j++ {
					x := hs[j]
					d0, d1, d2, d3 := bits.OnesCount64(h0^x), bits.OnesCount64(h1^x), bits.OnesCount64(h2^x), bits.OnesCount64(h3^x)
					d4, d5, d6, d7 := bits.OnesCount64(h4^x), bits.OnesCount64(h5^x), bits.OnesCount64(h6^x), bits.OnesCount64(h7^x)
					if min(d0, d1, d2, d3, d4, d5, d6, d7) > r {
						continue
					}
					for k, d := range [8]int{d0, d1, d2, d3, d4, d5, d6, d7} {
						if k < n && i0+k < j && d <= r {
							out = append(out, HashPair{I: uint32(i0 + k), J: uint32(j), Distance: uint8(d)})
						}
					}
				}
			}
			res[w] = out
		}()
	}
	wg.Wait()
	var out []HashPair
	for _, r := range res {
		out = append(out, r...)
	}
	SortPairs(out)
	return out
}

func TestChunkRadii(t *testing.T) {
	tests := []struct {
		maxDist int
		want    [mihChunks]int
	}{
		{0, [3]int{0, -1, -1}},
		{1, [3]int{0, 0, -1}},
		{2, [3]int{0, 0, 0}},
		{3, [3]int{1, 0, 0}},
		{8, [3]int{2, 2, 2}},
		{10, [3]int{3, 3, 2}},
	}
	for _, tc := range tests {
		got := chunkRadii(tc.maxDist)
		if got != tc.want {
			t.Errorf("chunkRadii(%d) = %v, want %v", tc.maxDist, got, tc.want)
		}
		sum := 0
		for _, r := range got {
			sum += r + 1
		}
		if sum != tc.maxDist+1 {
			t.Errorf("chunkRadii(%d): sum(t+1) = %d, want %d", tc.maxDist, sum, tc.maxDist+1)
		}
	}
}

func TestMasksUpTo(t *testing.T) {
	for _, nb := range []keyBits{10, 21} {
		for r := -1; r <= 4; r++ {
			ms := masksUpTo(r, nb)
			if len(ms) != max(maskCount(r, nb), 0) {
				t.Errorf("masksUpTo(%d, %d): %d masks, maskCount says %d", r, nb, len(ms), maskCount(r, nb))
			}
			seen := map[uint32]bool{}
			for i, m := range ms {
				if bits.OnesCount32(m) > r || m>>nb != 0 || seen[m] {
					t.Fatalf("masksUpTo(%d): bad or repeated mask %#x", r, m)
				}
				if i > 0 && bits.OnesCount32(m) < bits.OnesCount32(ms[i-1]) {
					t.Fatalf("masksUpTo(%d): not lightest first", r)
				}
				seen[m] = true
			}
		}
	}
}

func TestBitPermIsPermutation(t *testing.T) {
	hs := plantedHashes(t, 1, 5000, 8, 10, true)
	dest := planBits(hs)
	p := newBitPerm(dest)
	rng := rand.New(rand.NewPCG(2, 3))
	for range 1000 {
		a, b := rng.Uint64(), rng.Uint64()
		if got, want := bits.OnesCount64(p.apply(a)^p.apply(b)), bits.OnesCount64(a^b); got != want {
			t.Fatalf("permutation changed a distance: got %d, want %d", got, want)
		}
	}
	// The constant bit 0 of balanced hashes must be the one left out.
	if dest[0] != 63 {
		t.Errorf("planBits put the constant bit at %d, want 63 (in no chunk)", dest[0])
	}
}

// TestAllPairsMatchesBruteForce is the exactness requirement: on 100,000
// hashes with near-duplicates planted at every distance up to the radius, the
// multi-index join finds exactly the pairs that comparing every pair finds.
func TestAllPairsMatchesBruteForce(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		maxDist  int
		balanced bool
	}{
		{"random 100k r8", 100_000, 8, false},
		{"pHash-like 100k r8", 100_000, 8, true},
		{"random 20k r0", 20_000, 0, false},
		{"random 20k r4", 20_000, 4, false},
		{"random 20k r11", 20_000, 11, false},
		{"tiny", 40, 8, false},
	}
	if testing.Short() {
		tests = tests[2:]
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			perDist := max(1, tc.n/100/(tc.maxDist+1))
			hs := plantedHashes(t, uint64(tc.n+tc.maxDist), tc.n, tc.maxDist, perDist, tc.balanced)
			// Exact duplicates of a duplicate: a bucket with several equal hashes.
			hs[1], hs[2], hs[3] = hs[0], hs[0], hs[0]
			got, err := AllPairs(context.Background(), hs, tc.maxDist, 2)
			if err != nil {
				t.Fatal(err)
			}
			SortPairs(got)
			want := brutePairs(hs, tc.maxDist)
			if len(want) < perDist*(tc.maxDist+1) {
				t.Fatalf("brute force found %d pairs, fewer than the %d planted", len(want), perDist*(tc.maxDist+1))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("AllPairs found %d pairs, brute force %d; first difference: %v", len(got), len(want), firstDiff(got, want))
			}
			t.Logf("%d pairs", len(got))
		})
	}
}

func firstDiff(a, b []HashPair) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "got " + pairString(a[i]) + ", want " + pairString(b[i])
		}
	}
	if len(a) > len(b) {
		return "extra " + pairString(a[len(b)])
	}
	if len(b) > len(a) {
		return "missing " + pairString(b[len(a)])
	}
	return "none"
}

func pairString(p HashPair) string {
	return "(" + itoa(int(p.I)) + "," + itoa(int(p.J)) + " d=" + itoa(int(p.Distance)) + ")"
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func TestHashSetSearchMatchesLinearScan(t *testing.T) {
	hs := plantedHashes(t, 7, 50_000, 10, 200, true)
	s, err := NewHashSet(hs)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for _, maxDist := range []int{0, 1, 3, 8, 10, 14, 30} {
		for q := range 50 {
			var query uint64
			if q%2 == 0 {
				query = flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(maxDist+1))
			} else {
				query = balancedHash(rng)
			}
			var got []uint32
			s.Search(query, maxDist, func(i uint32, d int) {
				if d != bits.OnesCount64(query^hs[i]) {
					t.Fatalf("Search reported distance %d for entry %d, true distance %d", d, i, bits.OnesCount64(query^hs[i]))
				}
				got = append(got, i)
			})
			slices.Sort(got)
			var want []uint32
			for i, h := range hs {
				if bits.OnesCount64(query^h) <= maxDist {
					want = append(want, uint32(i))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("maxDist %d query %d: Search found %v, linear scan %v", maxDist, q, got, want)
			}
		}
	}
}

func TestAllPairsCancel(t *testing.T) {
	hs := plantedHashes(t, 3, 10_000, 8, 10, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AllPairs(ctx, hs, 8, 2); err == nil {
		t.Fatal("AllPairs with a cancelled context returned no error")
	}
}

func BenchmarkAllPairs1M(b *testing.B) {
	for _, balanced := range []bool{false, true} {
		name := "random"
		if balanced {
			name = "pHash-like"
		}
		b.Run(name, func(b *testing.B) {
			hs := plantedHashes(b, 11, 1_000_000, 8, 1_000_000/100/9, balanced)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ps, err := AllPairs(context.Background(), hs, 8, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(ps)), "pairs")
			}
		})
	}
}

func BenchmarkHashSetSearch1M(b *testing.B) {
	hs := plantedHashes(b, 12, 1_000_000, 8, 1000, true)
	s, err := NewHashSet(hs)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	qs := make([]uint64, 1024)
	for i := range qs {
		qs[i] = flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(9))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Search(qs[i%len(qs)], 8, func(uint32, int) {})
		i++
	}
}

func BenchmarkLinearScan1M(b *testing.B) {
	hs := plantedHashes(b, 12, 1_000_000, 8, 1000, true)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		q := hs[n%len(hs)]
		for _, h := range hs {
			if bits.OnesCount64(q^h) <= 8 {
				n++
			}
		}
	}
}

func TestXorBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for range 200 {
		x, q := rng.Uint64(), uint(rng.IntN(64))
		var want uint64
		for b := range uint(64) {
			if x&(1<<b) != 0 {
				want |= 1 << (b ^ q)
			}
		}
		if got := xorBits(x, q); got != want {
			t.Fatalf("xorBits(%#x, %d) = %#x, want %#x", x, q, got, want)
		}
	}
	for j := range uint(6) {
		m := lowHalves(j)
		for b := range uint(64) {
			if got, want := m&(1<<b) != 0, b&(1<<j) == 0; got != want {
				t.Fatalf("lowHalves(%d) bit %d = %v, want %v", j, b, got, want)
			}
		}
	}
}

// BenchmarkAllPairs10M is the 10-million-hash join (about 1 GB of test data
// and a minute of CPU; skipped with -short).
func BenchmarkAllPairs10M(b *testing.B) {
	if testing.Short() {
		b.Skip("10M hashes: skipped with -short")
	}
	hs := plantedHashes(b, 13, 10_000_000, 8, 10_000_000/100/9, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ps, err := AllPairs(context.Background(), hs, 8, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(ps)), "pairs")
	}
}
