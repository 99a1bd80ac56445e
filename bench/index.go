package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
)

// IndexConfig is the index workload: N synthetic fingerprints, about
// DupFraction of them near-duplicates planted at every distance 0..MaxDistance,
// written into a real index (Badger) and searched.
type IndexConfig struct {
	N           int     // fingerprints; 0 means 1,000,000
	DupFraction float64 // planted near-duplicates; 0 means 0.01
	MaxDistance int     // pHash radius; 0 means index.DefaultMaxDistance
	// Uniform draws uniformly random pHashes. By default they look like real
	// pHashes instead: exactly 32 of 64 bits set, the DC bit always 1.
	Uniform bool
	// Hashes, when set, replaces the generated pHashes (RealHashes makes
	// such a set from real images); N is then len(Hashes).
	Hashes []uint64
	Seed   uint64
	// Dir is where the index is built; empty means a temporary directory,
	// removed afterwards.
	Dir string
	// NoStore measures only the in-memory pair search (what the 10-million
	// run needs: a 10M-image index would take 15 GB of disk).
	NoStore bool
	// Queries is how many single-image queries to time; 0 means 1000.
	Queries int
	// BruteLimit: the pair search is compared with brute force when N is
	// at most this; 0 means 100,000 (about 5 s of CPU; 1M would take 7 min).
	BruteLimit int
	// Workers for the pair search; 0 means all cores.
	Workers int
}

func (c *IndexConfig) defaults() {
	if c.Hashes != nil {
		c.N = len(c.Hashes)
	}
	if c.N <= 0 {
		c.N = 1_000_000
	}
	if c.DupFraction <= 0 {
		c.DupFraction = 0.01
	}
	if c.MaxDistance <= 0 {
		c.MaxDistance = index.DefaultMaxDistance
	}
	if c.Queries <= 0 {
		c.Queries = 1000
	}
	if c.BruteLimit <= 0 {
		c.BruteLimit = 100_000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// IndexResult holds the figures of one run. Durations are wall time.
type IndexResult struct {
	N       int
	Planted int // planted near-duplicates

	Insert        time.Duration // writing all images into the index (one file each)
	InsertPerSec  float64
	InsertCPU     time.Duration // CPU time of the process (all threads) during the insert; 0 where not measured
	DiskBytes     int64         // size of the index directory after Close
	BytesPerImage float64       // DiskBytes / N
	Reopen        time.Duration
	LoadSearch    time.Duration // key-only scan + building the search structure
	SearchBytes   int64         // memory the search structure holds

	Pairs      int           // pairs within MaxDistance
	PairsTime  time.Duration // the multi-index join
	BrutePairs int           // -1 when brute force was not run
	BruteTime  time.Duration
	Clusters   int           // clusters found by Store.Clusters (-1 with NoStore)
	ClusterRun time.Duration // Store.Clusters end to end

	SearchP50, SearchP99 time.Duration // HashSet.Search, one orientation
	LinearP50, LinearP99 time.Duration // comparing with every hash, one orientation
	QueryP50, QueryP99   time.Duration // Store.Query: 8 orientations, exact keys, records
	SpeedUp              float64       // LinearP50 / SearchP50

	PeakRSS       int64 // bytes, the process's high-water mark (getrusage)
	InsertPeakRSS int64 // bytes, the high-water mark during the insert (Linux; 0 elsewhere)
}

// RunIndex runs the index workload and writes a report to w.
func RunIndex(ctx context.Context, cfg IndexConfig, w io.Writer) (IndexResult, error) {
	cfg.defaults()
	res := IndexResult{N: cfg.N, BrutePairs: -1, Clusters: -1}
	hashes := cfg.Hashes
	var family []int32 // which picture each hash is of: near-duplicates share their original's
	if hashes == nil {
		hashes, family = plantedPHashes(cfg.Seed, cfg.N, cfg.MaxDistance, cfg.DupFraction, !cfg.Uniform)
		res.Planted = int(float64(cfg.N) * cfg.DupFraction)
	}
	kind := "pHash-like (32 bits set)"
	if cfg.Uniform {
		kind = "uniform random"
	}
	if cfg.Hashes != nil {
		kind = "given"
	}
	fmt.Fprintf(w, "index benchmark: %d %s hashes, %d planted near-duplicates, r=%d, %d CPUs\n",
		cfg.N, kind, res.Planted, cfg.MaxDistance, runtime.GOMAXPROCS(0))

	// The pair search, in memory: what `copycat clusters` does after loading.
	start := time.Now()
	ps, err := index.AllPairs(ctx, hashes, cfg.MaxDistance, cfg.Workers)
	if err != nil {
		return res, err
	}
	res.PairsTime = time.Since(start)
	res.Pairs = len(ps)
	fmt.Fprintf(w, "all pairs at r=%d: %d pairs in %v\n", cfg.MaxDistance, res.Pairs, res.PairsTime.Round(time.Millisecond))
	if cfg.N <= cfg.BruteLimit {
		start = time.Now()
		n, err := brutePairCount(ctx, hashes, cfg.MaxDistance, cfg.Workers)
		if err != nil {
			return res, err
		}
		res.BruteTime, res.BrutePairs = time.Since(start), n
		verdict := "identical counts"
		if n != res.Pairs {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "brute force: %d pairs in %v (%s)\n", n, res.BruteTime.Round(time.Millisecond), verdict)
		if n != res.Pairs {
			return res, fmt.Errorf("pair search found %d pairs, brute force %d", res.Pairs, n)
		}
	}
	ps = nil

	if !cfg.NoStore {
		if err := runStore(ctx, &cfg, hashes, family, &res, w); err != nil {
			return res, err
		}
	} else {
		set, err := index.NewHashSet(hashes)
		if err != nil {
			return res, err
		}
		res.SearchBytes = set.Bytes()
		timeSearch(ctx, &cfg, hashes, set, nil, &res)
	}
	res.PeakRSS = peakRSS()
	fmt.Fprintf(w, "single query over %d: search p50 %v p99 %v; linear scan p50 %v p99 %v; speed-up %.0fx\n",
		cfg.N, res.SearchP50, res.SearchP99, res.LinearP50, res.LinearP99, res.SpeedUp)
	if res.QueryP50 > 0 {
		fmt.Fprintf(w, "full Store.Query (8 orientations, exact keys, records): p50 %v p99 %v\n", res.QueryP50, res.QueryP99)
	}
	fmt.Fprintf(w, "peak RSS %.0f MB\n", float64(res.PeakRSS)/(1<<20))
	return res, nil
}

// runStore writes the hashes into a real index, reopens it read-only, and
// measures search and clustering there.
func runStore(ctx context.Context, cfg *IndexConfig, hashes []uint64, family []int32, res *IndexResult, w io.Writer) error {
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "copycat-bench-index-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	thumbs := thumbPool(cfg.Seed, 4096)
	peakReset := resetPeakRSS()
	s, err := index.Open(dir, index.Options{BatchFiles: 2048, FlushInterval: time.Minute})
	if err != nil {
		return err
	}
	start, cpu0 := time.Now(), cpuTime()
	sc, err := s.BeginWrite("bench", dir)
	if err != nil {
		_ = s.Close()
		return err
	}
	// One file and one image, refilled for each i: Put copies what it keeps.
	var f index.File
	imgs := make([]index.Image, 1)
	var name []byte
	for i, h := range hashes {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				_ = sc.Close()
				_ = s.Close()
				return err
			}
		}
		fam := i
		if family != nil {
			fam = int(family[i])
		}
		name = syntheticImage(i, fam, h, &thumbs[fam%len(thumbs)], &f, &imgs[0], name)
		// As the scan pipeline does: ask first, then write.
		if same, err := sc.Unchanged(f.Path, f.Size, f.ModTime); err != nil || same {
			_ = s.Close()
			return fmt.Errorf("unchanged %s: %v, %w", f.Path, same, err)
		}
		if err := sc.Put(f, imgs); err != nil {
			_ = s.Close()
			return err
		}
	}
	if _, err := sc.Finish(); err != nil {
		_ = s.Close()
		return err
	}
	res.Insert = time.Since(start)
	if cpu0 > 0 {
		res.InsertCPU = cpuTime() - cpu0
	}
	res.InsertPerSec = float64(cfg.N) / res.Insert.Seconds()
	anon, file := rssNow()
	if err := s.Close(); err != nil {
		return err
	}
	if peakReset {
		res.InsertPeakRSS = peakRSSSinceReset()
	}
	res.DiskBytes, err = dirSize(dir)
	if err != nil {
		return err
	}
	res.BytesPerImage = float64(res.DiskBytes) / float64(cfg.N)
	fmt.Fprintf(w, "insert: %d images (one file each: a file key and an image key) in %v: %.0f images/s; %.1f MB on disk, %.0f bytes/image\n",
		cfg.N, res.Insert.Round(time.Millisecond), res.InsertPerSec, float64(res.DiskBytes)/(1<<20), res.BytesPerImage)
	if res.InsertCPU > 0 {
		// Wall time depends on what else the machine runs; CPU time much less.
		fmt.Fprintf(w, "insert CPU: %v (all threads): %.0f images per CPU-second\n",
			res.InsertCPU.Round(time.Millisecond), float64(cfg.N)/res.InsertCPU.Seconds())
	}
	if anon+file > 0 {
		fmt.Fprintf(w, "resident after the insert: %.0f MB anonymous (heap), %.0f MB file-backed (Badger's memory-mapped files)\n",
			float64(anon)/(1<<20), float64(file)/(1<<20))
	}
	if res.InsertPeakRSS > 0 {
		fmt.Fprintf(w, "peak RSS during the insert (open to close, the hashes and thumbnails it writes included): %.0f MB\n", float64(res.InsertPeakRSS)/(1<<20))
	}

	start = time.Now()
	s, err = index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	res.Reopen = time.Since(start)
	ls, err := s.PrepareSearch()
	if err != nil {
		return err
	}
	res.LoadSearch, res.SearchBytes = ls.Duration, ls.Bytes
	fmt.Fprintf(w, "reopen read-only: %v; load search structure (key-only scan + tables): %v, %.0f MB\n",
		res.Reopen.Round(time.Millisecond), res.LoadSearch.Round(time.Millisecond), float64(res.SearchBytes)/(1<<20))

	set, err := index.NewHashSet(hashes)
	if err != nil {
		return err
	}
	timeSearch(ctx, cfg, hashes, set, s, res)

	start = time.Now()
	cs, st, err := s.Clusters(ctx, index.ClusterOptions{MaxDistance: cfg.MaxDistance, Workers: cfg.Workers})
	if err != nil {
		return err
	}
	res.ClusterRun, res.Clusters = time.Since(start), len(cs)
	fmt.Fprintf(w, "clusters: %d from %d candidate pairs (%d verified) in %v (load %v, join %v, verify %v)\n",
		len(cs), st.CandidatePairs, st.VerifiedPairs, res.ClusterRun.Round(time.Millisecond),
		st.Load.Round(time.Millisecond), st.Join.Round(time.Millisecond), st.Verify.Round(time.Millisecond))
	return nil
}

// timeSearch measures single queries: the search structure against a
// linear scan on the same query hashes, and, with a store, Store.Query.
func timeSearch(ctx context.Context, cfg *IndexConfig, hashes []uint64, set *index.HashSet, s *index.Store, res *IndexResult) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 99))
	queries := make([]uint64, cfg.Queries)
	for i := range queries {
		// Half near an indexed hash, half anywhere.
		if i%2 == 0 {
			queries[i] = flip(rng, hashes[rng.IntN(len(hashes))], rng.IntN(cfg.MaxDistance+1))
		} else {
			queries[i] = hashes[rng.IntN(len(hashes))] ^ rng.Uint64()
		}
	}
	search := make([]time.Duration, len(queries))
	linear := make([]time.Duration, len(queries))
	sink := 0
	for i, q := range queries {
		t0 := time.Now()
		set.Search(q, cfg.MaxDistance, func(uint32, int) { sink++ })
		t1 := time.Now()
		for _, h := range hashes {
			if bits.OnesCount64(q^h) <= cfg.MaxDistance {
				sink--
			}
		}
		t2 := time.Now()
		search[i], linear[i] = t1.Sub(t0), t2.Sub(t1)
	}
	res.SearchP50, res.SearchP99 = percentile(search, 50), percentile(search, 99)
	res.LinearP50, res.LinearP99 = percentile(linear, 50), percentile(linear, 99)
	if res.SearchP50 > 0 {
		res.SpeedUp = float64(res.LinearP50) / float64(res.SearchP50)
	}
	if s == nil {
		return
	}
	thumbs := thumbPool(cfg.Seed, 1)
	full := make([]time.Duration, 0, len(queries))
	var f index.File
	var im index.Image
	for i, q := range queries {
		syntheticImage(len(hashes)+i, len(hashes)+i, q, &thumbs[0], &f, &im, nil)
		t0 := time.Now()
		_, err := s.Query(ctx, index.Query{Fingerprint: im.Fingerprint, FileSHA256: im.FileSHA256, PixelSHA256: im.PixelSHA256, MaxDistance: cfg.MaxDistance})
		if err != nil {
			return
		}
		full = append(full, time.Since(t0))
	}
	res.QueryP50, res.QueryP99 = percentile(full, 50), percentile(full, 99)
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// plantedPHashes returns n hashes of which about dupFraction are
// near-duplicates of others, at distances spread evenly over 0..maxDist,
// and for each hash the index of its original (itself for originals).
// Balanced hashes have 32 bits set and the top bit (the DC coefficient's
// in goimagehash's order) always set, like real pHashes.
func plantedPHashes(seed uint64, n, maxDist int, dupFraction float64, balanced bool) ([]uint64, []int32) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	planted := int(float64(n) * dupFraction)
	hs := make([]uint64, 0, n)
	fam := make([]int32, 0, n)
	for len(hs) < n-planted {
		if balanced {
			hs = append(hs, balancedPHash(rng))
		} else {
			hs = append(hs, rng.Uint64())
		}
		fam = append(fam, int32(len(fam)))
	}
	base := len(hs)
	for i := 0; len(hs) < n; i++ {
		orig := rng.IntN(base)
		d := i % (maxDist + 1)
		if balanced {
			hs = append(hs, flipBalanced(rng, hs[orig], d))
		} else {
			hs = append(hs, flip(rng, hs[orig], d))
		}
		fam = append(fam, int32(orig))
	}
	rng.Shuffle(len(hs), func(i, j int) {
		hs[i], hs[j] = hs[j], hs[i]
		fam[i], fam[j] = fam[j], fam[i]
	})
	return hs, fam
}

func balancedPHash(rng *rand.Rand) uint64 {
	h := uint64(1) << 63
	for bits.OnesCount64(h) < 32 {
		h |= 1 << rng.IntN(63)
	}
	return h
}

// flip flips d distinct random bits.
func flip(rng *rand.Rand, h uint64, d int) uint64 {
	var m uint64
	for bits.OnesCount64(m) < d {
		m |= 1 << rng.IntN(64)
	}
	return h ^ m
}

// flipBalanced moves bits so that the popcount stays 32 and the top bit
// stays set: d/2 ones become zeros and d-d/2 zeros become ones (an odd d
// leaves one more one, as a real median threshold can on ties).
func flipBalanced(rng *rand.Rand, h uint64, d int) uint64 {
	out := h
	for moved := 0; moved < d; {
		b := rng.IntN(63)
		bit := uint64(1) << b
		if (h^out)&bit != 0 {
			continue
		}
		if (moved%2 == 0) == (h&bit != 0) {
			out ^= bit
			moved++
		}
	}
	return out
}

// brutePairCount counts pairs by comparing all of them.
func brutePairCount(ctx context.Context, hs []uint64, r, workers int) (int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	counts := make([]int, workers)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			n := 0
			for i := w; i < len(hs); i += workers {
				if i%1024 == w && ctx.Err() != nil {
					errs <- ctx.Err()
					return
				}
				h := hs[i]
				for _, g := range hs[i+1:] {
					if bits.OnesCount64(h^g) <= r {
						n++
					}
				}
			}
			counts[w] = n
			errs <- nil
		}()
	}
	var err error
	for range workers {
		err = errors.Join(err, <-errs)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	return total, err
}

// thumbPool makes smooth synthetic thumbnails (a gradient and a few discs),
// which compress like real ones; random bytes would not.
func thumbPool(seed uint64, n int) [][hash.ThumbSize * hash.ThumbSize]uint8 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][hash.ThumbSize * hash.ThumbSize]uint8, n)
	for k := range out {
		gx, gy, c := rng.Float64()*4, rng.Float64()*4, rng.Float64()*100
		type disc struct{ x, y, r2, v float64 }
		discs := make([]disc, 3)
		for i := range discs {
			r := 3 + rng.Float64()*8
			discs[i] = disc{rng.Float64() * 32, rng.Float64() * 32, r * r, 60 + rng.Float64()*190}
		}
		for y := range hash.ThumbSize {
			for x := range hash.ThumbSize {
				v := c + gx*float64(x) + gy*float64(y)
				for _, d := range discs {
					dx, dy := float64(x)-d.x, float64(y)-d.y
					if dx*dx+dy*dy < d.r2 {
						v = d.v
					}
				}
				out[k][y*hash.ThumbSize+x] = uint8(min(255, v))
			}
		}
	}
	return out
}

// syntheticImage fills f and im with image i as a scan would record it: a
// one-frame PNG with digests, the given pHash, and the thumbnail and PDQ of
// its family (the original picture it is a near-duplicate of). It fills
// them in place, since copying an Image (1.3 KB) costs as much as the rest,
// and draws the digests from a generator seeded with i (and the PDQ from
// one seeded with the family): computing real SHA-256s is the scan
// workers' job, not the index's, and would only load the writer's core.
// buf is scratch for the path, returned for reuse.
func syntheticImage(i, family int, ph uint64, thumb *[hash.ThumbSize * hash.ThumbSize]uint8, f *index.File, im *index.Image, buf []byte) []byte {
	// The path is "set%03d/img%07d.png", formatted without fmt.
	buf = append(buf[:0], "set"...)
	buf = appendPadded(buf, i%1000, 3)
	buf = append(buf, "/img"...)
	buf = appendPadded(buf, i, 7)
	buf = append(buf, ".png"...)
	*f = index.File{
		Path:    string(buf),
		Size:    200_000 + int64(i%5000),
		ModTime: time.Unix(1_700_000_000+int64(i), 0),
		Format:  "png",
		Frames:  1,
	}
	digest(&f.SHA256, uint64(i), 1)
	*im = index.Image{
		Format: "png", Width: 512, Height: 512, Bits: 8, Photometric: "MONOCHROME2",
		FileSize: f.Size, FileSHA256: f.SHA256,
	}
	digest(&im.PixelSHA256, uint64(i), 2)
	fp := &im.Fingerprint
	fp.PHash = ph
	fp.DHash = ph*0x9e3779b97f4a7c15 ^ uint64(i)
	fp.AHash = bits.RotateLeft64(ph, 17)
	digest(&fp.PDQ, uint64(family), 3)
	fp.PDQQuality = 100
	for k := range fp.Dihedral {
		fp.Dihedral[k] = bits.RotateLeft64(ph, 8*k)
	}
	fp.Thumb = *thumb
	return buf
}

// digest fills d with 32 pseudo-random bytes determined by (seed, kind).
func digest(d *[32]byte, seed, kind uint64) {
	g := rand.NewPCG(seed, kind)
	for k := 0; k < len(d); k += 8 {
		binary.LittleEndian.PutUint64(d[k:], g.Uint64())
	}
}

// appendPadded appends v in decimal, zero-padded to width digits.
func appendPadded(b []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}
