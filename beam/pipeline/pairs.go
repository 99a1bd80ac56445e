package pipeline

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/match"
)

// PairsOptions configure the pairs step.
type PairsOptions struct {
	// Exports are folders holding an images.parquet (copycat export,
	// or the fingerprint step's parts).
	Exports []string
	// Out is the folder the pairs files go to (pairs-NNNNN.parquet).
	Out string
	// MaxDistance is the pHash distance of the search (negative:
	// index.DefaultMaxDistance), NoTransforms leaves rotated and
	// mirrored copies out: as index.ClusterOptions.
	MaxDistance  int
	NoTransforms bool
	// HotKey is the group size past which a join key is split into
	// cells (0: DefaultHotKey).
	HotKey int
	// PrefixBits is how many bits of a chunk key's value make a join
	// group (index.ChunkPlan.Groups): 1+PrefixBits groups per hash and
	// chunk, each group searched with index.AllPairs. 0 means
	// DefaultPrefixBits; 21 is one group per key.
	PrefixBits int
}

// DefaultPrefixBits makes 16 groups per chunk and hash set, 144 in all
// (3 chunks, 3 sets counting the exact ones): each hash goes to 5 groups
// per chunk, 45 records per image, and a group holds about 5/16 of the
// hashes, which index.AllPairs searches in seconds up to 10^7. Past
// that, or for more parallel groups, raise it (the README's scaling note).
const DefaultPrefixBits = 4

// DefaultHotKey is the largest join group searched on one worker: a
// million hashes take 16 MB and a few hundred milliseconds of
// index.AllPairs. Thousands of blank frames share a group; past the
// limit a group is split into S sub-buckets, each member goes to the S
// cells of its sub-bucket, and the cells are searched apart.
const DefaultHotKey = 1 << 20

func (o PairsOptions) maxDist() int {
	if o.MaxDistance < 0 {
		return index.DefaultMaxDistance
	}
	return min(o.MaxDistance, 64)
}

// Join-key layout (uint64): the set (2 bits: 0 pHashes, 1 canonical
// pHashes, 2 pixel digest, 3 SOP digest), the chunk (2 bits) and its
// value (21 bits), then a hot key's cell (two 15-bit sub-bucket numbers,
// lower first). Exact sets key on the digest's value instead.
const (
	setPHash = iota
	setCanon
	setPixel
	setSOP
)

func chunkJoinKey(set, c int, v uint32) uint64 {
	return uint64(set)<<62 | uint64(c)<<60 | uint64(v)<<30
}

func withCell(k uint64, i, j int) uint64 { return k | uint64(i)<<15 | uint64(j) }

func keyParts(k uint64) (set int, ck index.ChunkKey, ci, cj int) {
	return int(k >> 62), index.ChunkKey{C: int(k>>60) & 3, V: uint32(k>>30) & (1<<index.ChunkBits - 1)},
		int(k>>15) & 0x7fff, int(k) & 0x7fff
}

// exactJoinKey keys an exact set on its digest: the top bits say the set,
// the digest's top 62 bits the group (a collision only adds a candidate,
// which match.Compare rules out on the full digests).
func exactJoinKey(set int, d uint64) uint64 { return uint64(set)<<62 | d>>2 }

// A member of a join group is an image, the hash (permuted) that put it
// there, and its sub-bucket when the group is split into cells: 18 bytes,
// coded as bytes, which Beam moves much faster than a struct.
const memberLen = 18

func member(id, h uint64, sub int) []byte {
	b := make([]byte, memberLen)
	binary.BigEndian.PutUint64(b, id)
	binary.BigEndian.PutUint64(b[8:], h)
	binary.BigEndian.PutUint16(b[16:], uint16(sub))
	return b
}

func memberParts(b []byte) (id, h uint64, sub int) {
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), int(binary.BigEndian.Uint16(b[16:]))
}

// HalfPair is a candidate pair on its way to B's record: A's record.
type HalfPair struct {
	A Rec
}

func init() {
	register.DoFn3x1[context.Context, ExportDir, func(Rec), error](&readImagesFn{})
	beam.RegisterType(reflect.TypeOf((*ExportDir)(nil)).Elem())
	register.Emitter1[Rec]()
	register.Function1x1[Rec, interchange.ImageSet](imageSetOf)
	register.Function2x1[interchange.ImageSet, interchange.ImageSet, interchange.ImageSet](addImageSets)
	register.Combiner3[sampleAcc, Rec, []uint64](&sampleFn{})
	register.DoFn3x0[Rec, func(*[]uint64) bool, func(uint64, int)](&countKeysFn{})
	register.Iter1[[]uint64]()
	register.Iter1[HotKey]()
	register.Emitter2[uint64, int]()
	register.Function2x1[int, int, int](addInts)
	register.DoFn4x0[Rec, func(*[]uint64) bool, func(*HotKey) bool, func(uint64, []byte)](&emitKeysFn{})
	register.Emitter2[uint64, []byte]()
	register.Iter1[[]byte]()
	register.DoFn5x1[context.Context, uint64, func(*[]byte) bool, func(*[]uint64) bool, func(uint64, uint64), error](&joinFn{})
	register.Emitter2[uint64, uint64]()
	register.Function1x2[Rec, uint64, Rec](recKey)
	register.Iter1[uint64]()
	register.Iter1[Rec]()
	register.DoFn4x1[uint64, func(*uint64) bool, func(*Rec) bool, func(uint64, HalfPair), error](&attachAFn{})
	register.Emitter2[uint64, HalfPair]()
	register.Iter1[HalfPair]()
	register.DoFn4x1[uint64, func(*HalfPair) bool, func(*Rec) bool, func([]byte), error](&compareFn{})
	register.Emitter1[[]byte]()
	register.DoFn2x1[[]byte, interchange.ImageSet, error](&writeRowsFn{})
	register.DoFn1x1[interchange.ImageSet, error](&writeMetaFn{})
	beam.RegisterType(reflect.TypeOf((*HalfPair)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Rec)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*interchange.Pair)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*interchange.ImageSet)(nil)).Elem())
}

// Pairs adds the pairs step to s: images in, verified pairs out as
// pairs files in opts.Out (pairs-*.parquet: one per bundle of the last
// stage, and pairs-meta.parquet with none, all with the same metadata).
// A retried bundle may leave a file behind beside its retry's: a pair
// then appears twice, which ImportPairs ignores.
func Pairs(s beam.Scope, opts PairsOptions) {
	s = s.Scope("pairs")
	if opts.HotKey <= 0 {
		opts.HotKey = DefaultHotKey
	}
	dirs := make([]ExportDir, len(opts.Exports))
	for i, d := range opts.Exports {
		dirs[i] = ExportDir{I: i, Dir: d}
	}
	recs := beam.ParDo(s, &readImagesFn{}, beam.Reshuffle(s, beam.CreateList(s, dirs)))
	set := beam.Combine(s, addImageSets, beam.ParDo(s, imageSetOf, recs))
	sample := beam.Combine(s, &sampleFn{}, recs)
	if opts.PrefixBits <= 0 {
		opts.PrefixBits = DefaultPrefixBits
	}
	cfg := keyConfig{MaxDistance: opts.maxDist(), NoTransforms: opts.NoTransforms, HotKey: opts.HotKey, PrefixBits: opts.PrefixBits}

	// Key counts first, so that hot keys are split before they are
	// grouped.
	counts := beam.CombinePerKey(s, addInts, beam.ParDo(s, &countKeysFn{Cfg: cfg}, recs, beam.SideInput{Input: sample}))
	hotKeys := beam.ParDo(s, &hotFilterFn{Hot: opts.HotKey}, counts)
	keyed := beam.ParDo(s, &emitKeysFn{Cfg: cfg}, recs, beam.SideInput{Input: sample}, beam.SideInput{Input: hotKeys})
	groups := beam.GroupByKey(s, keyed)
	cands := beam.ParDo(s, &joinFn{Cfg: cfg}, groups, beam.SideInput{Input: sample})

	// Join the candidates with A's record, then with B's, and compare.
	byID := beam.ParDo(s, recKey, recs)
	halves := beam.ParDo(s, &attachAFn{}, beam.CoGroupByKey(s, cands, byID))
	rows := beam.ParDo(s, &compareFn{Cfg: cfg}, beam.CoGroupByKey(s, halves, byID))
	beam.ParDo0(s, &writeRowsFn{Cfg: cfg, Out: opts.Out}, rows, beam.SideInput{Input: set})
	// A file with no pairs and the output's metadata, so that an output
	// that found nothing still says what the search ran on.
	beam.ParDo0(s, &writeMetaFn{Out: opts.Out, MaxDistance: cfg.MaxDistance, NoTransforms: cfg.NoTransforms}, set)
}

// keyConfig is what the keying and joining DoFns share.
type keyConfig struct {
	MaxDistance  int
	NoTransforms bool
	HotKey       int
	PrefixBits   int
}

// ExportDir is an input of the pairs step and its place among them.
type ExportDir struct {
	I   int
	Dir string
}

// readImagesFn reads the images of an export folder.
type readImagesFn struct{}

func (f *readImagesFn) ProcessElement(ctx context.Context, d ExportDir, emit func(Rec)) error {
	row := uint64(0)
	return interchange.ReadImages(d.Dir, func(im index.Image) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		emit(Rec{ID: imageID(im.Dataset, im.Path, im.Frame), Order: uint64(d.I)<<40 | row, Blob: encodeImage(&im)})
		row++
		return nil
	})
}

func imageSetOf(r Rec) interchange.ImageSet {
	im, err := decodeImage(r)
	if err != nil {
		panic(err) // encoded by readImagesFn: cannot happen
	}
	var s interchange.ImageSet
	s.Add(interchange.ImageName{Dataset: im.Dataset, Path: im.Path, Frame: int64(im.Frame)}, im.PixelSHA256)
	return s
}

func addImageSets(a, b interchange.ImageSet) interchange.ImageSet {
	a.Merge(b)
	return a
}

func addInts(a, b int) int { return a + b }

type hotFilterFn struct{ Hot int }

// HotKey is a join key with more members than PairsOptions.HotKey.
type HotKey struct {
	K uint64
	N int
}

func (f *hotFilterFn) ProcessElement(k uint64, n int, emit func(HotKey)) {
	if n > f.Hot {
		emit(HotKey{K: k, N: n})
	}
}

// planFrom makes the chunk plan from the sample side input, read once
// per DoFn instance: side inputs are read lazily, and every element sees
// the same.
func planFrom(plan **index.ChunkPlan, maxDist int, sample func(*[]uint64) bool) *index.ChunkPlan {
	if *plan == nil {
		var hs []uint64
		sample(&hs)
		*plan = index.NewChunkPlan(hs, maxDist)
	}
	return *plan
}

func init() {
	register.DoFn3x0[uint64, int, func(HotKey)](&hotFilterFn{})
	register.Emitter1[HotKey]()
	beam.RegisterType(reflect.TypeOf((*HotKey)(nil)).Elem())
}

// sampleSize is how many pHashes choose the chunk plan's permutation.
const sampleSize = 4096

// sampleFn keeps the sampleSize pHashes of the images with the smallest
// IDs: a deterministic sample, whatever the order of the input.
type sampleFn struct{}

type sampleAcc struct {
	IDs, Hashes []uint64
}

func (f *sampleFn) CreateAccumulator() sampleAcc { return sampleAcc{} }

func (f *sampleFn) AddInput(a sampleAcc, r Rec) sampleAcc {
	im, err := decodeImage(r)
	if err != nil {
		panic(err)
	}
	a.IDs = append(a.IDs, r.ID)
	a.Hashes = append(a.Hashes, im.Fingerprint.PHash)
	if len(a.IDs) > 2*sampleSize {
		a = trimSample(a)
	}
	return a
}

func (f *sampleFn) MergeAccumulators(a, b sampleAcc) sampleAcc {
	a.IDs = append(a.IDs, b.IDs...)
	a.Hashes = append(a.Hashes, b.Hashes...)
	return trimSample(a)
}

func (f *sampleFn) ExtractOutput(a sampleAcc) []uint64 { return trimSample(a).Hashes }

func trimSample(a sampleAcc) sampleAcc {
	idx := make([]int, len(a.IDs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int { return cmp.Compare(a.IDs[x], a.IDs[y]) })
	idx = idx[:min(len(idx), sampleSize)]
	out := sampleAcc{IDs: make([]uint64, len(idx)), Hashes: make([]uint64, len(idx))}
	for k, i := range idx {
		out.IDs[k], out.Hashes[k] = a.IDs[i], a.Hashes[i]
	}
	return out
}

// keys calls fn with the join keys of image im and the hash each is for:
// the pHash set's and the canonical set's chunk groups, and the exact
// digests.
func keys(plan *index.ChunkPlan, cfg keyConfig, im *match.Image, fn func(k, h uint64)) {
	sh := index.SearchHashesOf(&index.Image{
		Frame: im.Frame, PixelSHA256: im.PixelSHA256, SOPInstanceUID: im.SOP,
		Fingerprint: *im.Fingerprint, MinMax: im.MinMax,
	})
	emitSet := func(set int, h uint64) {
		ph := plan.Permute(h)
		plan.Groups(ph, cfg.PrefixBits, func(k index.ChunkKey) { fn(chunkJoinKey(set, k.C, k.V), ph) })
	}
	for _, h := range sh.PHashes {
		emitSet(setPHash, h)
	}
	if !cfg.NoTransforms {
		for _, h := range sh.Canonical {
			if h != 0 {
				emitSet(setCanon, h)
			}
		}
	}
	if sh.Pixel != 0 {
		fn(exactJoinKey(setPixel, sh.Pixel), sh.Pixel)
	}
	if sh.SOP != 0 {
		fn(exactJoinKey(setSOP, sh.SOP), sh.SOP)
	}
}

// countKeysFn counts the join keys of the images of a bundle and emits
// the counts when it ends: a few hundred records per bundle instead of 45
// per image (Prism's shuffle slows down with the number of records).
type countKeysFn struct {
	Cfg  keyConfig
	plan *index.ChunkPlan
	n    map[uint64]int
}

func (f *countKeysFn) ProcessElement(r Rec, sample func(*[]uint64) bool, emit func(uint64, int)) {
	planFrom(&f.plan, f.Cfg.MaxDistance, sample)
	im, err := decodeImage(r)
	if err != nil {
		panic(err)
	}
	if f.n == nil {
		f.n = map[uint64]int{}
	}
	keys(f.plan, f.Cfg, im, func(k, _ uint64) { f.n[k]++ })
	if len(f.n) > maxBufferedKeys {
		f.flush(emit)
	}
}

func (f *countKeysFn) flush(emit func(uint64, int)) {
	for k, n := range f.n {
		emit(k, n)
	}
	clear(f.n)
}

func (f *countKeysFn) FinishBundle(_ func(*[]uint64) bool, emit func(uint64, int)) { f.flush(emit) }

// maxBufferedKeys and maxBufferedBytes bound what a DoFn gathers of a
// bundle before it emits.
const (
	maxBufferedKeys  = 1 << 16
	maxBufferedBytes = 64 << 20
)

// cellsOf is how many sub-buckets a key of n members is split into.
func cellsOf(n, hot int) int { return min(0x7fff, (n+hot-1)/hot) }

// emitKeysFn emits every join key of every image with its member; a hot
// key's member goes to the S cells of its sub-bucket b: (min(b,j),
// max(b,j)) for every j, so that every two members meet in one cell. The
// members of a bundle are gathered by key and emitted together, as
// concatenated members, when the bundle ends.
type emitKeysFn struct {
	Cfg   keyConfig
	plan  *index.ChunkPlan
	hot   map[uint64]int
	buf   map[uint64][]byte
	bytes int
}

func (f *emitKeysFn) ProcessElement(r Rec, sample func(*[]uint64) bool, hot func(*HotKey) bool, emit func(uint64, []byte)) {
	planFrom(&f.plan, f.Cfg.MaxDistance, sample)
	if f.hot == nil {
		f.hot = map[uint64]int{}
		var h HotKey
		for hot(&h) {
			f.hot[h.K] = h.N
		}
	}
	if f.buf == nil {
		f.buf = map[uint64][]byte{}
	}
	im, err := decodeImage(r)
	if err != nil {
		panic(err)
	}
	add := func(k uint64, m []byte) {
		f.buf[k] = append(f.buf[k], m...)
		f.bytes += len(m)
	}
	keys(f.plan, f.Cfg, im, func(k, h uint64) {
		n, ok := f.hot[k]
		if !ok {
			add(k, member(r.ID, h, 0))
			return
		}
		cells := cellsOf(n, f.Cfg.HotKey)
		b := int(mix(r.ID) % uint64(cells))
		for j := range cells {
			add(withCell(k, min(b, j), max(b, j)), member(r.ID, h, b))
		}
	})
	if f.bytes > maxBufferedBytes {
		f.flush(emit)
	}
}

func (f *emitKeysFn) flush(emit func(uint64, []byte)) {
	for k, b := range f.buf {
		emit(k, b)
	}
	clear(f.buf)
	f.bytes = 0
}

func (f *emitKeysFn) FinishBundle(_ func(*[]uint64) bool, _ func(*HotKey) bool, emit func(uint64, []byte)) {
	f.flush(emit)
}

// mix spreads IDs (already hashes) into sub-buckets independently of
// the bits the chunk keys use.
func mix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0x7fb5d329728ea185
	x ^= x >> 27
	return x
}

// joinFn finds the pairs of a group (index.AllPairs over its members'
// hashes) and emits, A < B, those it owns: whose owning key
// (index.ChunkPlan.Owner) has the group's prefix, and, in a cell of two
// sub-buckets, that join one member of each.
type joinFn struct {
	Cfg  keyConfig
	plan *index.ChunkPlan
}

func (f *joinFn) ProcessElement(ctx context.Context, k uint64, it func(*[]byte) bool, sample func(*[]uint64) bool, emit func(uint64, uint64)) error {
	planFrom(&f.plan, f.Cfg.MaxDistance, sample)
	type mem struct {
		id, h uint64
		sub   int
	}
	var ms []mem
	var b []byte
	for it(&b) {
		for ; len(b) >= memberLen; b = b[memberLen:] {
			id, h, sub := memberParts(b)
			ms = append(ms, mem{id, h, sub})
		}
	}
	set, ck, ci, cj := keyParts(k)
	if set == setPixel || set == setSOP {
		// As index's exactPairs: each to the next (in ID order here),
		// match.Compare confirms on the full digests.
		slices.SortFunc(ms, func(x, y mem) int { return cmp.Compare(x.id, y.id) })
		ms = slices.CompactFunc(ms, func(x, y mem) bool { return x.id == y.id })
		for i := 1; i < len(ms); i++ {
			emit(ms[i-1].id, ms[i].id)
		}
		return nil
	}
	hs := make([]uint64, len(ms))
	for i, m := range ms {
		hs[i] = m.h
	}
	ps, err := index.AllPairs(ctx, hs, f.plan.MaxDistance(), 1)
	if err != nil {
		return err
	}
	for _, p := range ps {
		a, b := ms[p.I], ms[p.J]
		if a.id == b.id || (ci != cj && a.sub == b.sub) {
			continue // one image's two hashes; a pair of the diagonal cell
		}
		if o, ok := f.plan.Owner(a.h, b.h); !ok || index.Prefix(o, f.Cfg.PrefixBits) != ck {
			continue
		}
		emit(min(a.id, b.id), max(a.id, b.id))
	}
	return nil
}

func recKey(r Rec) (uint64, Rec) { return r.ID, r }

// attachAFn joins candidate pairs (A, B) with A's record, each B once.
type attachAFn struct{}

func (f *attachAFn) ProcessElement(a uint64, bs func(*uint64) bool, recs func(*Rec) bool, emit func(uint64, HalfPair)) error {
	rec, ok, err := onlyRec(a, recs)
	if err != nil || !ok {
		return err // a candidate always has a record; none: no candidates
	}
	seen := map[uint64]bool{}
	var b uint64
	for bs(&b) {
		if !seen[b] {
			seen[b] = true
			emit(b, HalfPair{A: rec})
		}
	}
	return nil
}

func onlyRec(id uint64, recs func(*Rec) bool) (Rec, bool, error) {
	var r, x Rec
	n := 0
	for recs(&x) {
		r = x
		n++
	}
	if n > 1 {
		return r, false, fmt.Errorf("pipeline: %d images share the ID %016x: two names hash alike", n, id)
	}
	return r, n == 1, nil
}

// compareFn verifies each candidate with B's record, as Clusters does:
// match.Compare of the image first in the inputs' order (Rec.Order) with
// the other. It gathers the verified pairs of its bundle and emits them
// as one element when the bundle ends.
type compareFn struct {
	Cfg  keyConfig
	rows []interchange.Pair
}

func (f *compareFn) ProcessElement(b uint64, halves func(*HalfPair) bool, recs func(*Rec) bool, emit func([]byte)) error {
	rec, ok, err := onlyRec(b, recs)
	if err != nil || !ok {
		return err
	}
	ib, err := decodeImage(rec)
	if err != nil {
		return err
	}
	mo := match.Options{MaxDistance: f.Cfg.MaxDistance, NoTransforms: f.Cfg.NoTransforms}
	var h HalfPair
	for halves(&h) {
		ia, err := decodeImage(h.A)
		if err != nil {
			return err
		}
		x, y := ia, ib
		if h.A.Order > rec.Order {
			x, y = y, x
		}
		r := match.Compare(x, y, mo)
		if r.Verified {
			f.rows = append(f.rows, interchange.NewPair(nameOf(x), nameOf(y), r))
		}
	}
	return nil
}

func (f *compareFn) FinishBundle(emit func([]byte)) error {
	if len(f.rows) == 0 {
		return nil
	}
	b, err := json.Marshal(f.rows)
	f.rows = f.rows[:0]
	if err != nil {
		return err
	}
	emit(b)
	return nil
}

// writeRowsFn writes a bundle's rows, sorted, to a pairs file of its own.
type writeRowsFn struct {
	Cfg keyConfig
	Out string
}

func (f *writeRowsFn) ProcessElement(b []byte, set interchange.ImageSet) error {
	var rows []interchange.Pair
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	interchange.SortPairs(rows)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	return writePairs(filepath.Join(f.Out, fmt.Sprintf("pairs-%x.parquet", rnd)), rows,
		interchange.PairsMeta{MaxDistance: f.Cfg.MaxDistance, NoTransforms: f.Cfg.NoTransforms, Set: set})
}

func nameOf(im *match.Image) interchange.ImageName {
	return interchange.ImageName{Dataset: im.Dataset, Path: im.Path, Frame: int64(im.Frame)}
}

func writePairs(path string, rows []interchange.Pair, meta interchange.PairsMeta) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w, err := interchange.NewPairWriter(path, meta)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// writeMetaFn writes pairs-meta.parquet: no pairs, the metadata.
type writeMetaFn struct {
	Out          string
	MaxDistance  int
	NoTransforms bool
}

func (f *writeMetaFn) ProcessElement(set interchange.ImageSet) error {
	return writePairs(filepath.Join(f.Out, "pairs-meta.parquet"), nil,
		interchange.PairsMeta{MaxDistance: f.MaxDistance, NoTransforms: f.NoTransforms, Set: set})
}
