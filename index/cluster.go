package index

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/bits"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/copycat-dev/copycat/hash"
)

// ClusterOptions configure Pairs and Clusters.
type ClusterOptions struct {
	// MaxDistance is the pHash distance up to which two images are
	// candidates; negative means DefaultMaxDistance.
	MaxDistance int
	// Verify holds the thresholds a candidate pair must pass.
	Verify VerifyOptions
	// Workers bounds the goroutines of the pair search (GOMAXPROCS if <= 0).
	Workers int
}

func (o ClusterOptions) maxDist() int {
	if o.MaxDistance < 0 {
		return DefaultMaxDistance
	}
	return min(o.MaxDistance, 64)
}

// Pair is a near-duplicate candidate: two images within the pHash distance
// asked for, with the verification of the pair.
type Pair struct {
	A, B         uint64 // image IDs, A < B
	Distance     int
	Verification Verification
	Verified     bool
}

// Pairs returns every pair of indexed images within the pHash distance,
// verified, ordered by (A, B). Exact duplicates with different pHashes are
// not pairs here (Clusters joins them).
func (s *Store) Pairs(ctx context.Context, opts ClusterOptions) ([]Pair, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, err
	}
	hi, err := s.hashIndex(false)
	if err != nil {
		return nil, err
	}
	hps, err := AllPairs(ctx, hi.hashes, opts.maxDist(), opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("pairs: %w", err)
	}
	ips := imagePairs(hi, hps)
	fps, err := s.loadFingerprints(ctx, hi, pairEntries(ips))
	if err != nil {
		return nil, err
	}
	vo := opts.Verify.withDefaults()
	out := make([]Pair, 0, len(ips))
	for _, ip := range ips {
		a, b := fps[ip.I], fps[ip.J]
		d, v, ok := compareRenderings(a, b, opts.maxDist(), vo)
		p := Pair{A: hi.refs[ip.I].id, B: hi.refs[ip.J].id, Distance: d, Verification: v, Verified: ok && !sameAcquisition(a, b)}
		if p.A > p.B {
			p.A, p.B = p.B, p.A
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y Pair) int { return cmp.Or(cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B)) })
	return out, nil
}

// imagePairs maps hash pairs to pairs of image entries, once each: an
// image with a min-max rendering has two hashes, and two such images can
// meet through up to four pairs of them. A pair of an image with its own
// min-max rendering is left out. Distance is the least of its hash pairs.
func imagePairs(hi *hashIndex, hps []HashPair) []HashPair {
	if len(hi.mmOf) == 0 {
		return hps
	}
	out := make([]HashPair, 0, len(hps))
	at := map[[2]uint32]int{}
	for _, hp := range hps {
		i, _ := hi.owner(hp.I)
		j, _ := hi.owner(hp.J)
		if i == j {
			continue
		}
		if i > j {
			i, j = j, i
		}
		if k, ok := at[[2]uint32{i, j}]; ok {
			out[k].Distance = min(out[k].Distance, hp.Distance)
			continue
		}
		at[[2]uint32{i, j}] = len(out)
		out = append(out, HashPair{I: i, J: j, Distance: hp.Distance})
	}
	return out
}

func pairEntries(hps []HashPair) []uint32 {
	es := make([]uint32, 0, 2*len(hps))
	for _, p := range hps {
		es = append(es, p.I, p.J)
	}
	return es
}

// Cluster is a group of images that are copies of one another.
type Cluster struct {
	// ID is stable while the representative stays in the index: a digest
	// of its dataset, path and frame.
	ID      string          `json:"id"`
	Members []ClusterMember `json:"members"`
}

// ClusterMember is one image of a cluster and how it relates to the
// cluster's representative, the first member. The others follow strongest
// relation first (exact kinds, then by pHash distance).
type ClusterMember struct {
	ImageID uint64 `json:"image_id"`
	Dataset string `json:"dataset"`
	Path    string `json:"path"` // inside the dataset (inside the archive for archive members)
	Frame   int    `json:"frame"`
	// Kind is "representative" for the first member; for the others, the
	// strongest relation to it.
	Kind     MemberKind `json:"kind"`
	Distance int        `json:"distance"` // pHash distance to the representative
}

// MemberKind is a MatchKind, or KindRepresentative.
type MemberKind = MatchKind

// KindRepresentative marks the member the others are compared to.
const KindRepresentative MatchKind = 0

// ClusterStats reports what Clusters did, for the benchmarks and -v.
type ClusterStats struct {
	Images         int           // images considered
	CandidatePairs int           // pHash pairs within the distance
	VerifiedPairs  int           // of which passed verification
	ExactGroups    int           // groups of images sharing a file, pixel or instance digest
	Split          int           // components the representative check split apart
	Load           time.Duration // loading the hashes
	Join           time.Duration // finding the pairs
	Verify         time.Duration // loading fingerprints and verifying
}

// Clusters groups the indexed images that are copies of one another; images
// with no copy are left out. Largest clusters first.
//
// Two images are linked when they share a file digest and frame, a pixel
// digest, or a SOP Instance UID and frame, or when their pHashes are within
// MaxDistance and the pair passes verification. The connected components of
// the links are then checked against a representative (the first member in
// dataset, path, frame order): a member that is not itself linked to the
// representative starts a new group, with the same rule, so a chain of
// loose links (slice 1 ~ slice 2 ~ slice 3 ...) cannot glue distinct images
// together.
func (s *Store) Clusters(ctx context.Context, opts ClusterOptions) ([]Cluster, ClusterStats, error) {
	var st ClusterStats
	if err := s.checkOpen(false); err != nil {
		return nil, st, err
	}
	start := time.Now()
	hi, err := s.hashIndex(false)
	if err != nil {
		return nil, st, err
	}
	st.Load = time.Since(start)
	st.Images = len(hi.refs)
	start = time.Now()
	r := opts.maxDist()
	hps, err := AllPairs(ctx, hi.hashes, r, opts.Workers)
	if err != nil {
		return nil, st, fmt.Errorf("clusters: %w", err)
	}
	st.CandidatePairs = len(hps)
	st.Join = time.Since(start)
	start = time.Now()

	uf := newUnionFind(len(hi.refs)) // over image entries, not hash entries
	st.ExactGroups = exactGroups(hi, uf)
	ips := imagePairs(hi, hps)
	fps, err := s.loadFingerprints(ctx, hi, pairEntries(ips))
	if err != nil {
		return nil, st, err
	}
	vo := opts.Verify.withDefaults()
	for _, ip := range ips {
		a, b := fps[ip.I], fps[ip.J]
		if _, _, ok := compareRenderings(a, b, r, vo); ok && !sameAcquisition(a, b) {
			st.VerifiedPairs++
			uf.union(ip.I, ip.J)
		}
	}
	// Collect the components with more than one member.
	comps := map[uint32][]uint32{}
	for i := range hi.refs {
		root := uf.find(uint32(i))
		if uf.size[root] > 1 {
			comps[root] = append(comps[root], uint32(i))
		}
	}
	var members []uint32
	for _, c := range comps {
		members = append(members, c...)
	}
	if err := s.loadMore(ctx, hi, fps, members); err != nil {
		return nil, st, err
	}
	full := fps
	var out []Cluster
	for _, comp := range comps {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		cs := splitComponent(comp, full, r, vo)
		if len(cs) > 1 {
			st.Split++
		}
		out = append(out, cs...)
	}
	st.Verify = time.Since(start)
	slices.SortFunc(out, func(a, b Cluster) int {
		return cmp.Or(cmp.Compare(len(b.Members), len(a.Members)), cmp.Compare(a.ID, b.ID))
	})
	return out, st, nil
}

// maxDenseComponent is the largest component whose members are all
// compared with each other (n^2/2 relation checks, a few microseconds
// each); larger ones are split by greedy leaders in path order.
const maxDenseComponent = 512

// splitComponent applies the representative check to one component and
// returns its clusters of two or more members.
//
// In a component of up to maxDenseComponent members every pair is checked,
// then the member related to most others becomes a representative and
// takes all of them; repeat on the rest. Larger components (thousands of
// blank frames, say) take each member in path order to the first
// representative it relates to, or make it a new one.
func splitComponent(comp []uint32, fps map[uint32]*entryInfo, r int, vo VerifyOptions) []Cluster {
	slices.SortFunc(comp, func(a, b uint32) int {
		x, y := fps[a], fps[b]
		return cmp.Or(cmp.Compare(x.dataset, y.dataset), cmp.Compare(x.path, y.path), cmp.Compare(x.frame, y.frame))
	})
	type rel struct {
		kind MatchKind
		dist int
	}
	var out []Cluster
	emit := func(leader *entryInfo, members []ClusterMember) {
		if len(members) < 2 {
			return
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", leader.dataset, leader.path, leader.frame))
		out = append(out, Cluster{ID: hex.EncodeToString(sum[:6]), Members: members})
	}
	if len(comp) > maxDenseComponent {
		type group struct {
			leader  *entryInfo
			taken   []*entryInfo
			members []ClusterMember
		}
		var groups []*group
		for _, e := range comp {
			m := fps[e]
			placed := false
			for _, g := range groups {
				kind, d, ok := related(g.leader, m, r, vo)
				if ok && !slices.ContainsFunc(g.taken, func(o *entryInfo) bool { return sameAcquisition(o, m) && !exactlyRelated(o, m) }) {
					g.members = append(g.members, m.member(kind, d))
					g.taken = append(g.taken, m)
					placed = true
					break
				}
			}
			if !placed {
				groups = append(groups, &group{leader: m, taken: []*entryInfo{m}, members: []ClusterMember{m.member(KindRepresentative, 0)}})
			}
		}
		for _, g := range groups {
			emit(g.leader, g.members)
		}
		return out
	}
	n := len(comp)
	adj := make([]map[int]rel, n)
	for i := range adj {
		adj[i] = map[int]rel{}
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			if kind, d, ok := related(fps[comp[i]], fps[comp[j]], r, vo); ok {
				adj[i][j] = rel{kind, d}
				adj[j][i] = rel{kind, d}
			}
		}
	}
	left := make([]bool, n)
	remaining := n
	for remaining > 1 {
		best, bestDeg := -1, -1
		for i := range n {
			if left[i] {
				continue
			}
			deg := 0
			for j := range adj[i] {
				if !left[j] {
					deg++
				}
			}
			if deg > bestDeg {
				best, bestDeg = i, deg
			}
		}
		if bestDeg == 0 {
			break
		}
		leader := fps[comp[best]]
		members := []ClusterMember{leader.member(KindRepresentative, 0)}
		taken := []*entryInfo{leader}
		left[best] = true
		remaining--
		// Strongest relations first; a candidate that is another frame or
		// slice of an acquisition already in the group waits for a later
		// group, so that a hub (an export of one slice) cannot gather the
		// slices next to it.
		var cand []int
		for j := range adj[best] {
			if !left[j] {
				cand = append(cand, j)
			}
		}
		slices.SortFunc(cand, func(x, y int) int {
			rx, ry := adj[best][x], adj[best][y]
			return cmp.Or(cmp.Compare(rx.kind, ry.kind), cmp.Compare(rx.dist, ry.dist), cmp.Compare(x, y))
		})
		for _, j := range cand {
			m := fps[comp[j]]
			if slices.ContainsFunc(taken, func(o *entryInfo) bool { return sameAcquisition(o, m) && !exactlyRelated(o, m) }) {
				continue
			}
			rl := adj[best][j]
			members = append(members, m.member(rl.kind, rl.dist))
			taken = append(taken, m)
			left[j] = true
			remaining--
		}
		if len(members) == 1 {
			continue // every neighbour waits: this one stays alone
		}
		emit(leader, members)
	}
	return out
}

// related decides whether b is a copy of leader a, and how.
func related(a, b *entryInfo, r int, vo VerifyOptions) (MatchKind, int, bool) {
	d := bits.OnesCount64(a.fp.PHash ^ b.fp.PHash)
	switch {
	case equalDigest(a.fileSHA, b.fileSHA) && a.frame == b.frame:
		return KindIdenticalFile, 0, true
	case equalDigest(a.pixelSHA, b.pixelSHA):
		return KindIdenticalPixels, 0, true
	case sopIndexable(a.sop) && a.sop == b.sop && a.frame == b.frame:
		return KindSameDICOMInstance, d, true
	case !sameAcquisition(a, b):
		if dn, _, ok := compareRenderings(a, b, r, vo); ok {
			return KindNearDuplicate, dn, true
		}
	}
	return 0, d, false
}

// compareRenderings compares a and b through every pair of their
// renderings (their own, and their min-max ones where they have them)
// whose pHashes are within r, and returns the best: a pair that passes vo
// at the least distance, else the nearest pair. With no pair within r, d
// is the distance of their own renderings and v is zero.
func compareRenderings(a, b *entryInfo, r int, vo VerifyOptions) (d int, v Verification, ok bool) {
	d = bits.OnesCount64(a.fp.PHash ^ b.fp.PHash)
	found := false
	for _, x := range [2]*hash.Fingerprint{&a.fp, a.mm} {
		for _, y := range [2]*hash.Fingerprint{&b.fp, b.mm} {
			if x == nil || y == nil {
				continue
			}
			dx := bits.OnesCount64(x.PHash ^ y.PHash)
			if dx > r {
				continue
			}
			vx := compareWith(x, y, 0, vo.MinPDQQuality)
			okx := vo.Accept(vx)
			if !found || preferred(okx, dx, ok, d) {
				found, d, v, ok = true, dx, vx, okx
			}
		}
	}
	return d, v, ok
}

// exactlyRelated reports whether a and b share a file and frame, their
// pixels, or a DICOM instance and frame.
func exactlyRelated(a, b *entryInfo) bool {
	return equalDigest(a.fileSHA, b.fileSHA) && a.frame == b.frame ||
		equalDigest(a.pixelSHA, b.pixelSHA) ||
		sopIndexable(a.sop) && a.sop == b.sop && a.frame == b.frame
}

// sameAcquisition applies SameAcquisition to two loaded entries.
func sameAcquisition(a, b *entryInfo) bool {
	return SameAcquisition(a.acquisition(), b.acquisition())
}

// Acquisition is what SameAcquisition reads of an image.
type Acquisition struct {
	Dataset       string // any value that is equal for images of one dataset
	Path          string // path inside the dataset
	Format        string
	Width, Height int
	SOP, Series   string // DICOM SOP Instance and Series UIDs
}

// SameAcquisition reports whether a and b are distinct images of one
// acquisition, which look alike by nature and are never copies of each
// other unless their pixels are identical: two frames of one file (a cine
// loop); two instances of one DICOM series (adjacent slices, repeated
// acquisitions); or two consecutive frames of a sequence saved as files
// (SequenceNeighbours: one folder, one format and size, names numbered n
// and n+1). The verification study (doc.go) found no thumbnail or hash
// threshold that tells these from JPEG re-encodings; the metadata does. A
// copy made by an anonymiser that remaps UIDs gets a new series UID, so it
// is not caught by this rule; nor are frames two or more apart.
func SameAcquisition(a, b Acquisition) bool {
	switch {
	case a.Dataset != b.Dataset:
		return a.Series != "" && a.Series == b.Series && a.SOP != b.SOP
	case a.Path == b.Path:
		return true
	case a.Series != "" && a.Series == b.Series && a.SOP != b.SOP:
		return true
	}
	return a.Format == b.Format && a.Width == b.Width && a.Height == b.Height && SequenceNeighbours(a.Path, b.Path)
}

// SequenceNeighbours reports whether two paths name consecutive frames of
// a numbered sequence: the same folder, and file names that are equal but
// for their last run of digits, which differ by one (frame009.png and
// frame010.png, rubberwhale1.png and rubberwhale2.png).
func SequenceNeighbours(a, b string) bool {
	da, na := path.Split(a)
	db, nb := path.Split(b)
	if da != db {
		return false
	}
	pa, xa, sa, ok := lastNumber(na)
	if !ok {
		return false
	}
	pb, xb, sb, ok := lastNumber(nb)
	return ok && pa == pb && sa == sb && (xa-xb == 1 || xb-xa == 1)
}

// lastNumber splits name around its last run of decimal digits (at most
// 18 of them, so the value fits an int64).
func lastNumber(name string) (prefix string, n int64, suffix string, ok bool) {
	end := strings.LastIndexFunc(name, isDigit) + 1
	if end == 0 {
		return "", 0, "", false
	}
	start := strings.LastIndexFunc(name[:end], func(r rune) bool { return !isDigit(r) }) + 1
	if end-start > 18 {
		return "", 0, "", false
	}
	n, err := strconv.ParseInt(name[start:end], 10, 64)
	return name[:start], n, name[end:], err == nil
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// acquisition is what SameAcquisition reads of e.
func (e *entryInfo) acquisition() Acquisition {
	return Acquisition{Dataset: e.dataset, Path: e.path, Format: e.format, Width: e.width, Height: e.height, SOP: e.sop, Series: e.series}
}

// entryInfo is what clustering needs of one image.
type entryInfo struct {
	id       uint64
	dataset  string
	path     string
	frame    int
	fileSHA  [32]byte
	pixelSHA [32]byte
	sop      string
	series   string
	format   string
	width    int
	height   int
	fp       hash.Fingerprint
	mm       *hash.Fingerprint // the min-max rendering's, or nil
}

func (e *entryInfo) member(kind MatchKind, d int) ClusterMember {
	return ClusterMember{ImageID: e.id, Dataset: e.dataset, Path: e.path, Frame: e.frame, Kind: kind, Distance: d}
}

// loadFingerprints reads the image records of the given entries (repeats
// allowed) in ID order, which is key order.
func (s *Store) loadFingerprints(ctx context.Context, hi *hashIndex, entries []uint32) (map[uint32]*entryInfo, error) {
	out := map[uint32]*entryInfo{}
	return out, s.loadMore(ctx, hi, out, entries)
}

// loadMore adds to out the entries it does not hold yet.
func (s *Store) loadMore(ctx context.Context, hi *hashIndex, out map[uint32]*entryInfo, entries []uint32) error {
	es := make([]uint32, 0, len(entries))
	for _, e := range entries {
		if _, ok := out[e]; !ok {
			es = append(es, e)
		}
	}
	slices.Sort(es)
	es = slices.Compact(es)
	err := s.db.View(func(txn *badger.Txn) error {
		for k, e := range es {
			if k%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			ref := hi.refs[e]
			im, err := getImage(txn, ref)
			if err != nil {
				return err
			}
			out[e] = &entryInfo{
				id: im.ID, dataset: hi.names[ref.ds], path: im.Path, frame: im.Frame,
				fileSHA: im.FileSHA256, pixelSHA: im.PixelSHA256, sop: im.SOPInstanceUID,
				series: im.SeriesInstanceUID, format: im.Format, width: im.Width, height: im.Height,
				fp: im.Fingerprint, mm: im.MinMax,
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load fingerprints: %w", err)
	}
	return nil
}

// exactGroups links the images that share a pixel digest, or a SOP
// Instance UID and frame (by the 8-byte prefixes in their keys: a rare
// false link is undone by the representative check, which compares full
// digests), and returns the number of groups of two or more.
func exactGroups(hi *hashIndex, uf *unionFind) int {
	groups := 0
	for _, field := range []func(*imageRef) uint64{refPix, refSOP} {
		sorted := sortedBy(hi.refs, field)
		for i := 0; i < len(sorted); {
			j := i + 1
			for j < len(sorted) && field(&hi.refs[sorted[j]]) == field(&hi.refs[sorted[i]]) {
				uf.union(sorted[i], sorted[j])
				j++
			}
			if j-i > 1 {
				groups++
			}
			i = j
		}
	}
	return groups
}

// unionFind is a disjoint-set forest over entries, by size with path
// halving.
type unionFind struct {
	parent []uint32
	size   []uint32
}

func newUnionFind(n int) *unionFind {
	uf := &unionFind{parent: make([]uint32, n), size: make([]uint32, n)}
	for i := range uf.parent {
		uf.parent[i] = uint32(i)
		uf.size[i] = 1
	}
	return uf
}

func (u *unionFind) find(x uint32) uint32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b uint32) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
}
