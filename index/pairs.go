package index

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/copycat-dev/copycat/match"
)

// The verified pairs, out and in. VerifiedPairs lists the pairs the pair search
// verifies, as Clusters decides them; ClustersOf clusters a pair set
// given from outside (a Beam pipeline's output) as Clusters would; and
// SetPairs keeps an imported pair set in the index, where Clusters uses it
// instead of its own search while the index holds exactly the images the
// pairs were computed on (ImportedPairs says when).
//
// Imported pairs are keyed by image ID, which is local to this index, and
// stamped with a digest of the search structure (every image key and
// min-max key, in key order) taken when they were set. Any scan, import
// or forget that adds, changes or removes an image changes that digest:
// Clusters then searches on its own again and leaves the imported pairs
// aside (ClusterStats.ImportedPairs is 0) until pairs are imported anew.
// The pairs stay in the index until replaced by the next SetPairs, so an
// index whose images come back to the same keys (never, in practice: IDs
// are not reused) would use them again. Clusters uses them only with the
// distance and transforms option they were computed with.

// Errors of the imported pairs.
var (
	// ErrPairsUnknownImage is returned by SetPairs for a pair naming an
	// image ID the index does not hold.
	ErrPairsUnknownImage = errors.New("index: pair of an image not in the index")
)

// Key of the imported pairs' stamp, and tag of their keys:
// R<a:8><b:8>, empty value, a < b image IDs.
var metaPairs = []byte("Mpairs")

const tagPair = 'R'

// pairStampVersion is the first byte of the Mpairs value.
const pairStampVersion = 1

// IDPair is a pair of image IDs, A < B.
type IDPair struct{ A, B uint64 }

// PairSet is an externally computed set of verified pairs and the options
// of the search that found them.
type PairSet struct {
	Pairs        []IDPair
	MaxDistance  int // the pHash distance the search used (0-64)
	NoTransforms bool
}

// VerifiedPairs calls fn with every pair the pair search of Clusters verifies
// (candidates within opts' distance under the eight orientations, or
// sharing a pixel or instance digest; match.Compare), A < B, in no
// particular order. The rescue pass is not a pair search (it compares
// whole datasets once the pairs are known, on one machine) and is left to
// ClustersOf. An error from fn stops the listing and is returned.
func (s *Store) VerifiedPairs(ctx context.Context, opts ClusterOptions, fn func(Pair) error) error {
	if err := s.checkOpen(false); err != nil {
		return err
	}
	c, err := s.candidates(ctx, opts)
	if err != nil {
		return err
	}
	mo := opts.matchOptions()
	for i, p := range c.pairs {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		a, b := c.images[p.A], c.images[p.B]
		r := match.Compare(a, b, mo)
		if !r.Verified {
			continue
		}
		if err := fn(Pair{A: a.ID, B: b.ID, Result: r}); err != nil {
			return err
		}
	}
	return nil
}

// ClustersOf clusters the images as Clusters does, but from the given
// pairs instead of the pair search: each pair is verified again
// (match.Compare with opts), then the rescue pass and match.Groups run as
// in Clusters. Given what VerifiedPairs lists with the same options, it returns
// what Clusters returns. Pairs of an image ID not in the index fail with
// ErrPairsUnknownImage.
func (s *Store) ClustersOf(ctx context.Context, opts ClusterOptions, pairs []IDPair) ([]Cluster, ClusterStats, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, ClusterStats{}, err
	}
	c, err := s.candidatesOf(ctx, pairs)
	if err != nil {
		return nil, ClusterStats{}, err
	}
	return s.clustersFrom(ctx, c, opts)
}

// candidatesOf is the candidate set of the given pairs: their images
// loaded in ID order, as candidates loads them, so that match.Groups
// breaks ties in the same order.
func (s *Store) candidatesOf(ctx context.Context, pairs []IDPair) (*candidateSet, error) {
	start := time.Now()
	hi, err := s.hashIndex(false)
	if err != nil {
		return nil, err
	}
	st := ClusterStats{Load: time.Since(start), Images: len(hi.refs)}
	start = time.Now()
	entryOf := func(id uint64) (uint32, error) {
		e, ok := slices.BinarySearchFunc(hi.refs, id, func(r imageRef, id uint64) int { return cmp.Compare(r.id, id) })
		if !ok {
			return 0, fmt.Errorf("pair with image %d: %w", id, ErrPairsUnknownImage)
		}
		return uint32(e), nil
	}
	eps := make([]HashPair, 0, len(pairs))
	for _, p := range pairs {
		i, err := entryOf(p.A)
		if err != nil {
			return nil, err
		}
		j, err := entryOf(p.B)
		if err != nil {
			return nil, err
		}
		if i == j {
			continue
		}
		eps = append(eps, HashPair{I: min(i, j), J: max(i, j)})
	}
	return s.loadCandidates(ctx, hi, eps, st, start)
}

// clusterCandidates is the candidate set Clusters decides on: the
// imported pairs when they apply (ImportedPairs), else the pair search's.
func (s *Store) clusterCandidates(ctx context.Context, opts ClusterOptions) (*candidateSet, error) {
	pairs, ok, err := s.importedPairs(opts)
	if err != nil {
		return nil, err
	}
	if !ok {
		return s.candidates(ctx, opts)
	}
	c, err := s.candidatesOf(ctx, pairs)
	if err != nil {
		return nil, err
	}
	c.stats.ImportedPairs = len(pairs)
	return c, nil
}

// PairsStatus says whether the index holds imported pairs and whether
// Clusters uses them.
type PairsStatus struct {
	Pairs        int  // imported pairs held
	MaxDistance  int  // the distance they were computed with
	NoTransforms bool // computed without rotated and mirrored copies
	// Current is true while the index holds exactly the images the pairs
	// were set on.
	Current bool
}

// ImportedPairs reports the imported pairs' status.
func (s *Store) ImportedPairs(ctx context.Context) (PairsStatus, error) {
	if err := s.checkOpen(false); err != nil {
		return PairsStatus{}, err
	}
	stamp, ok, err := s.pairStamp()
	if err != nil || !ok {
		return PairsStatus{}, err
	}
	hi, err := s.hashIndex(false)
	if err != nil {
		return PairsStatus{}, err
	}
	return PairsStatus{Pairs: stamp.count, MaxDistance: stamp.maxDist, NoTransforms: stamp.noTransforms,
		Current: stamp.digest == refsDigest(hi)}, nil
}

// importedPairs returns the imported pairs when they apply to opts: they
// were set on the images the index holds now, with the same distance and
// transforms option.
func (s *Store) importedPairs(opts ClusterOptions) ([]IDPair, bool, error) {
	stamp, ok, err := s.pairStamp()
	if err != nil || !ok {
		return nil, false, err
	}
	if stamp.maxDist != opts.maxDist() || stamp.noTransforms != opts.NoTransforms {
		return nil, false, nil
	}
	hi, err := s.hashIndex(false)
	if err != nil {
		return nil, false, err
	}
	if stamp.digest != refsDigest(hi) {
		return nil, false, nil
	}
	pairs := make([]IDPair, 0, stamp.count)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagPair}, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			p, err := parsePairKey(it.Item().Key())
			if err != nil {
				return err
			}
			pairs = append(pairs, p)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("load imported pairs: %w", err)
	}
	return pairs, true, nil
}

// pairStamp is the decoded Mpairs value.
type pairStamp struct {
	digest       [32]byte
	maxDist      int
	noTransforms bool
	count        int
}

func (s *Store) pairStamp() (pairStamp, bool, error) {
	var st pairStamp
	var raw []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaPairs)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		raw, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return st, false, fmt.Errorf("read imported pairs: %w", err)
	}
	if raw == nil {
		return st, false, nil
	}
	if len(raw) != 1+32+1+1+8 || raw[0] != pairStampVersion {
		return st, false, fmt.Errorf("%w: imported pairs stamp of %d bytes", ErrCorrupt, len(raw))
	}
	copy(st.digest[:], raw[1:33])
	st.maxDist = int(raw[33])
	st.noTransforms = raw[34] == 1
	st.count = int(binary.BigEndian.Uint64(raw[35:]))
	return st, true, nil
}

// SetPairs replaces the imported pairs with ps, stamped with the images
// the index holds now (see the comment at the top of pairs.go). Setting
// the same set twice leaves the index as setting it once.
func (s *Store) SetPairs(ctx context.Context, ps PairSet) error {
	if err := s.checkOpen(true); err != nil {
		return err
	}
	if ps.MaxDistance < 0 || ps.MaxDistance > 64 {
		return fmt.Errorf("index: imported pairs' distance %d out of 0-64", ps.MaxDistance)
	}
	hi, err := s.hashIndex(false)
	if err != nil {
		return err
	}
	keys := make([][]byte, 0, len(ps.Pairs))
	for _, p := range ps.Pairs {
		a, b := min(p.A, p.B), max(p.A, p.B)
		for _, id := range [2]uint64{a, b} {
			if _, ok := slices.BinarySearchFunc(hi.refs, id, func(r imageRef, id uint64) int { return cmp.Compare(r.id, id) }); !ok {
				return fmt.Errorf("pair %d-%d: %w", a, b, ErrPairsUnknownImage)
			}
		}
		if a == b {
			continue
		}
		k := make([]byte, 0, 17)
		k = append(k, tagPair)
		k = binary.BigEndian.AppendUint64(k, a)
		keys = append(keys, binary.BigEndian.AppendUint64(k, b))
	}
	slices.SortFunc(keys, func(x, y []byte) int { return cmp.Compare(string(x), string(y)) })
	keys = slices.CompactFunc(keys, func(x, y []byte) bool { return string(x) == string(y) })
	// The old stamp goes first and the new one last, so that pairs half
	// written by an interrupted SetPairs are never stamped current.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(metaPairs) }); err != nil {
		return fmt.Errorf("replace imported pairs: %w", err)
	}
	if err := s.db.DropPrefix([]byte{tagPair}); err != nil {
		return fmt.Errorf("replace imported pairs: %w", err)
	}
	w := s.db.NewWriteBatch()
	defer w.Cancel()
	for i, k := range keys {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := w.Set(k, nil); err != nil {
			return fmt.Errorf("write imported pairs: %w", err)
		}
	}
	d := refsDigest(hi)
	stamp := append([]byte{pairStampVersion}, d[:]...)
	stamp = append(stamp, byte(ps.MaxDistance), boolByte(ps.NoTransforms))
	stamp = binary.BigEndian.AppendUint64(stamp, uint64(len(keys)))
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write imported pairs: %w", err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaPairs, stamp) }); err != nil {
		return fmt.Errorf("write imported pairs: %w", err)
	}
	return nil
}

// refsDigest identifies the images of the search structure: a digest of
// every image key and min-max key in key order. IDs are never reused, so
// any image added, rescanned or removed changes it.
func refsDigest(hi *hashIndex) [32]byte {
	h := sha256.New()
	var buf []byte
	for i := range hi.refs {
		buf = append(buf[:0], hi.refs[i].key()...)
		h.Write(buf)
	}
	for k, e := range hi.mmOf {
		buf = binary.BigEndian.AppendUint32(buf[:0], e)
		buf = binary.BigEndian.AppendUint64(buf, hi.hashes[len(hi.refs)+k])
		h.Write(buf)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// parsePairKey reads an imported pair's key.
func parsePairKey(k []byte) (IDPair, error) {
	if len(k) != 17 || k[0] != tagPair {
		return IDPair{}, fmt.Errorf("%w: bad pair key %q", ErrCorrupt, k)
	}
	p := IDPair{A: binary.BigEndian.Uint64(k[1:9]), B: binary.BigEndian.Uint64(k[9:])}
	if p.A >= p.B {
		return IDPair{}, fmt.Errorf("%w: pair key %q not in order", ErrCorrupt, k)
	}
	return p, nil
}

// merge adds images (of entries need, sorted, none in c) to c, keeping
// c's images in entry order: ties in the rescue and in match.Groups are
// broken by position, which is then the same whether c came from the
// pair search or from given pairs (which load fewer images).
func (c *candidateSet) merge(need []uint32, more []*match.Image) {
	old := c.entries
	entries := make([]uint32, 0, len(old)+len(need))
	images := make([]*match.Image, 0, len(old)+len(need))
	pos := make([]int, len(old)) // old position -> new
	i, j := 0, 0
	for i < len(old) || j < len(need) {
		if j >= len(need) || (i < len(old) && old[i] < need[j]) {
			pos[i] = len(entries)
			entries = append(entries, old[i])
			images = append(images, c.images[i])
			i++
		} else {
			entries = append(entries, need[j])
			images = append(images, more[j])
			j++
		}
	}
	for k := range c.pairs {
		c.pairs[k].A, c.pairs[k].B = pos[c.pairs[k].A], pos[c.pairs[k].B]
	}
	c.entries, c.images = entries, images
}
