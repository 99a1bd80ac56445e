package lineage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

// Options configure Analyze. Every field's zero value is its default but
// MaxDistance's, where 0 means something (exact copies only): set it
// negative for the default, as everywhere below the public package.
type Options struct {
	// MaxDistance is the pHash distance (of 64) up to which two images are
	// near-duplicate candidates; negative means index.DefaultMaxDistance
	// and 0 links exact copies only, as in index.ClusterOptions.
	MaxDistance int
	// Workers bounds the goroutines of the pair searches (GOMAXPROCS if 0).
	Workers int
	// NoTransforms leaves rotated and mirrored copies out of the clusters
	// (index.ClusterOptions.NoTransforms: no canonical-pHash join).
	NoTransforms bool
	// NoDocuments skips the licence and card audit: licences are then
	// reported "unavailable".
	NoDocuments bool
	// Logger receives progress detail; nil discards it.
	Logger *slog.Logger
}

func (o Options) maxDist() int {
	if o.MaxDistance < 0 {
		return index.DefaultMaxDistance
	}
	return min(o.MaxDistance, 64)
}

// Report is the result of Analyze: what the CLI prints and the HTML report
// shows. Its JSON field names are an interface (tracker issue 5): add
// fields freely, never rename.
type Report struct {
	Datasets []Dataset `json:"datasets"`
	// Overlaps lists every pair of datasets that share images.
	Overlaps []Overlap `json:"overlaps"`
	// Edges are the direct derivations, original -> copy.
	Edges []Edge `json:"edges"`
	// Indirect are derivations explained by a chain (A -> B -> C makes
	// A -> C indirect) or between siblings copied from one parent.
	Indirect []Edge `json:"indirect_edges"`
	Leaks    []Leak `json:"leaks"`
	// Findings are the licence and documentation problems, one sentence
	// each.
	Findings []string `json:"findings"`
	// Groups is the number of source images with more than one copy
	// (clusters, with rotated and mirrored copies joined).
	Groups int `json:"groups"`
	// Images is the number of images analysed.
	Images int `json:"images"`
	// Incomplete names the datasets whose last scan did not finish
	// (interrupted, or running now): only what it committed is analysed,
	// so their counts, overlaps and derivations may be short.
	Incomplete []string `json:"incomplete_datasets,omitempty"`

	groups []group // for the HTML galleries, largest first
	images []image // the analysed images, for the galleries' captions
	// leakOf marks the images of the leak pairs (index into images ->
	// index into Leaks), for the galleries.
	leakOf map[int]int
	// noDocuments says the audit was skipped (Options.NoDocuments): the
	// documentation is "unavailable" because nobody looked, not because
	// the index lacks it.
	noDocuments bool
}

// Dataset is one dataset of the index with its documentation audit.
type Dataset struct {
	Name     string `json:"name"`
	Source   string `json:"source"`
	Images   int    `json:"images"`
	Files    int    `json:"files"`
	Failures int    `json:"failures"`
	// FailedTotal is Failures under the name scan's JSON uses.
	FailedTotal int `json:"failed_total"`
	// Splits counts images per split (train, val, test) found in paths.
	Splits map[string]int `json:"splits,omitempty"`
	LicenseFinding
	// Documentation is the card audit; null when the documentation is
	// unavailable.
	Documentation *Documentation `json:"documentation"`

	docs []document // the documentation, for the conflict checks
}

// Overlap is a pair of datasets sharing images. A and B are in name order.
type Overlap struct {
	A string `json:"a"`
	B string `json:"b"`
	// SharedImages is the number of source images (groups) with copies in
	// both datasets.
	SharedImages int `json:"shared_images"`
	// AFraction is the share of A's images that have a copy in B;
	// BFraction the reverse.
	AFraction float64 `json:"a_fraction"`
	BFraction float64 `json:"b_fraction"`
	// Kinds counts the relation of the closest pair of each shared group:
	// identical-file, identical-pixels, same-dicom-instance,
	// near-duplicate; rotations and mirrors are counted by their names,
	// and near-duplicates of a DICOM frame's min-max rendering (see
	// index.Image.MinMax) as min-max-window.
	Kinds map[string]int `json:"kinds"`
	// MeanDistance is the mean pHash distance of those closest pairs.
	MeanDistance float64 `json:"mean_distance"`
}

// Edge is a derivation: Copy was made from Original.
type Edge struct {
	Original     string `json:"original"`
	Copy         string `json:"copy"`
	SharedImages int    `json:"shared_images"`
	// CopyFraction is the share of the copy's images found in the
	// original; OriginalFraction the share of the original's images found
	// in the copy. NewMaterial is 1 - CopyFraction.
	CopyFraction     float64 `json:"copy_fraction"`
	OriginalFraction float64 `json:"original_fraction"`
	NewMaterial      float64 `json:"new_material"`
	// Decided is false when no evidence tells which way the copy went
	// (identical copies, say): Original and Copy are then in name order.
	Decided bool `json:"decided"`
	// Evidence explains the direction, one sentence each.
	Evidence []string `json:"evidence"`
	// Transforms names what was done to the copies: resized,
	// aspect-changed, cropped, re-encoded, lossy, bit-depth-reduced,
	// rendered-from-dicom, rendered-from-nifti (with the slices used),
	// "window: NAME" (the window a NIfTI slice dump was made under, as
	// Window), a rotation or mirror (index.Transform names),
	// new-material. Details has a sentence per transform with counts.
	Transforms []string `json:"transforms"`
	Details    []string `json:"transform_details"`
	// Window names the window most of the edge's NIfTI slice dumps were
	// made under ("percentile 0.5-99.5", "min-max per slice", "min-max
	// per volume", "percentile 1-99", "cal_min/cal_max", or "unknown"
	// when none fits); empty when the edge has no NIfTI slice dump whose
	// thumbnail says. Windows counts the pairs per window: a pair whose
	// slice two windows map alike (its maximum is the volume's) counts
	// for both, and the window named in most pairs is the edge's.
	Window  string         `json:"window,omitempty"`
	Windows map[string]int `json:"windows,omitempty"`
	// Kinds counts relations as Overlap.Kinds does.
	Kinds map[string]int `json:"kinds"`
	// MeanDistance is the mean pHash distance of the closest pairs.
	MeanDistance float64 `json:"mean_distance"`
	// LicenseChanged is set when the copy's licence differs from the
	// original's, or the copy states none while the original does.
	LicenseChanged  bool   `json:"license_changed"`
	OriginalLicense string `json:"original_license"`
	CopyLicense     string `json:"copy_license"`
	// Via explains an indirect edge: the dataset it goes through, or the
	// sibling it was confused with.
	Via string `json:"via,omitempty"`
}

// Leak is a set of copies that cross splits.
type Leak struct {
	// Dataset is where the leak is: for a leak across datasets, the copy.
	Dataset string `json:"dataset"`
	// Original is set for leaks across datasets: the original whose test
	// split has copies in Dataset's train split.
	Original string `json:"original,omitempty"`
	// Splits are the two splits: within a dataset in name order; across
	// datasets the original's split, then the copy's.
	Splits []string `json:"splits"`
	// Pairs counts the image pairs that cross.
	Pairs int `json:"pairs"`
	// Examples are a few of the pairs as paths (dataset-qualified across
	// datasets).
	Examples [][2]string `json:"examples"`

	groups []int // the groups (clusters) holding the pairs, ascending, for the HTML report
}

// image is what lineage keeps of an indexed image: everything but the
// thumbnail and the finer hashes, about 250 bytes.
type image struct {
	id          uint64
	ds          int
	path        string
	frame       int
	format      string
	w, h, bits  int
	lossy       bool
	quality     int // JPEG quality estimate, 0 when not JPEG-coded
	fileSHA     [32]byte
	pixSHA      [32]byte
	sop, series string
	dihedral    [8]uint64
	mm          uint64 // pHash of the min-max rendering, when hasMM
	hasMM       bool
	split       string
	group       int // index into groups, -1 if none
	// transform is what was done to the group's first member to make this
	// image (from the index's cluster, match.Result.Transform).
	transform match.Transform
	cropped   bool // the cluster's relation to the representative is a crop
	// slice and slices place a NIfTI slice in its volume (slices is 0
	// for every other image).
	slice, slices int32
	plane         string // a NIfTI slice's plane ("axial"...); shares the volume's string
	// windows are a NIfTI slice's window ranges (index.Volume.Windows),
	// to name the window of its dumps.
	windows []index.VolumeWindow
}

// member is an image in a group and its relation to the group's first
// member.
type member struct {
	img       int // index into images
	transform match.Transform
	cropped   bool
	dist      int
}

type group struct {
	members  []member
	datasets int
}

// Errors of the package.
var (
	// ErrNoDatasets is returned by Analyze on an empty index.
	ErrNoDatasets = errors.New("lineage: the index holds no dataset")
)

// Analyze reads the index and reports the lineage of its datasets. It reads
// every image record once (without thumbnails kept), computes the clusters
// and audits each dataset's documentation as the scan kept it in the index.
func Analyze(ctx context.Context, st *index.Store, opts Options) (*Report, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	infos, err := st.Datasets(ctx)
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	if len(infos) == 0 {
		return nil, ErrNoDatasets
	}
	slices.SortFunc(infos, func(a, b index.DatasetInfo) int { return cmp.Compare(a.Name, b.Name) })
	a := &analysis{st: st, opts: opts, byID: map[uint64]int{}}
	rep := &Report{}
	for di, info := range infos {
		d := Dataset{Name: info.Name, Source: info.Source, Files: info.Files, Failures: info.Failures, FailedTotal: info.Failures}
		if !info.Complete {
			rep.Incomplete = append(rep.Incomplete, info.Name)
		}
		for im, err := range st.Images(ctx, info.Name) {
			if err != nil {
				return nil, fmt.Errorf("lineage: %w", err)
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			a.byID[im.ID] = len(a.images)
			var mm uint64
			if im.MinMax != nil {
				mm = im.MinMax.PHash
			}
			a.images = append(a.images, image{
				mm: mm, hasMM: im.MinMax != nil,
				id: im.ID, ds: di, path: im.Path, frame: im.Frame, format: im.Format,
				w: im.Width, h: im.Height, bits: im.Bits, lossy: im.Lossy, quality: im.JPEGQuality,
				fileSHA: im.FileSHA256, pixSHA: im.PixelSHA256, sop: im.SOPInstanceUID,
				series: im.SeriesInstanceUID, dihedral: im.Fingerprint.Dihedral,
				split: splitOf(im.Path), group: -1,
			})
			if v := im.Volume; v != nil {
				last := &a.images[len(a.images)-1]
				last.slice, last.slices, last.plane, last.windows = int32(v.Slice), int32(v.Dims[2]), v.Plane, v.Windows
			}
			d.Images++
			if s := splitOf(im.Path); s != "" {
				if d.Splits == nil {
					d.Splits = map[string]int{}
				}
				d.Splits[s]++
			}
		}
		rep.Datasets = append(rep.Datasets, d)
	}
	rep.Images = len(a.images)
	log.Debug("lineage: images loaded", "images", len(a.images))

	if err := a.buildGroups(ctx); err != nil {
		return nil, err
	}
	rep.Groups = len(a.groups)
	rep.groups = a.groups
	rep.images = a.images
	log.Debug("lineage: groups", "groups", len(a.groups))

	rep.noDocuments = opts.NoDocuments
	for i := range rep.Datasets {
		if opts.NoDocuments {
			rep.Datasets[i].LicenseFinding = LicenseFinding{Source: "unavailable"}
			continue
		}
		f, card, docs, err := auditDataset(ctx, st, rep.Datasets[i].Name)
		if err != nil {
			return nil, err
		}
		rep.Datasets[i].LicenseFinding, rep.Datasets[i].Documentation, rep.Datasets[i].docs = f, card, docs
	}

	a.overlaps(rep)
	if err := a.niftiWindows(ctx); err != nil {
		return nil, err
	}
	a.edges(rep)
	a.leaks(rep)
	findings(rep)
	return rep, nil
}

// analysis holds the state of one Analyze call.
type analysis struct {
	st     *index.Store
	opts   Options
	images []image
	byID   map[uint64]int
	groups []group
	// pairs holds, per pair of datasets (a < b), the closest image pair of
	// every group they share.
	pairs map[[2]int]map[int]closest
}

// closest is the closest pair of images of two datasets in one group.
type closest struct {
	a, b      int // image indices, a in the lower dataset
	kind      match.Kind
	transform match.Transform // b looks like a after it
	dist      int
	minMax    bool // near through a min-max rendering of a or b
	cropped   bool // one of the two is a crop of the other
	// windows are, for a NIfTI slice and a raster dump of it, the
	// windows the dump can have been made under (more than one where
	// they map the slice alike), or [windowUnknown]; nil when the pair is
	// not one or the thumbnails do not say.
	windows []string
}

// splitNames maps path components (lower case) to canonical split names.
var splitNames = map[string]string{
	"train": "train", "training": "train",
	"val": "val", "valid": "val", "validation": "val", "dev": "val",
	"test": "test", "testing": "test", "holdout": "test",
}

// splitOf returns the canonical split named by the first path component
// that names one, or "".
func splitOf(p string) string {
	for c := range strings.SplitSeq(p, "/") {
		if s, ok := splitNames[strings.ToLower(strings.TrimSuffix(c, "!"))]; ok {
			return s
		}
	}
	return ""
}

// buildGroups takes the index's clusters as groups: match.Groups has
// decided which images are copies (rotated, mirrored and cropped ones
// included) and how each relates to the cluster's representative.
func (a *analysis) buildGroups(ctx context.Context) error {
	clusters, _, err := a.st.Clusters(ctx, index.ClusterOptions{MaxDistance: a.opts.maxDist(), Workers: a.opts.Workers, NoTransforms: a.opts.NoTransforms})
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	for _, c := range clusters {
		g := group{}
		seen := map[int]bool{}
		for _, m := range c.Members {
			i, ok := a.byID[m.ImageID]
			if !ok {
				continue // scanned after the records were read
			}
			a.images[i].transform = m.Relation.Transform
			a.images[i].cropped = m.Relation.Cropped()
			g.members = append(g.members, member{img: i, transform: m.Relation.Transform, cropped: m.Relation.Cropped(), dist: m.Distance})
			seen[a.images[i].ds] = true
		}
		if len(g.members) < 2 {
			continue
		}
		g.datasets = len(seen)
		a.groups = append(a.groups, g)
	}
	slices.SortStableFunc(a.groups, func(x, y group) int {
		return cmp.Or(cmp.Compare(y.datasets, x.datasets), cmp.Compare(len(y.members), len(x.members)),
			a.imageOrder(x.members[0].img, y.members[0].img))
	})
	for gi, g := range a.groups {
		for _, m := range g.members {
			a.images[m.img].group = gi
		}
	}
	return nil
}

// imageOrder orders images by dataset, path and frame.
func (a *analysis) imageOrder(x, y int) int {
	p, q := &a.images[x], &a.images[y]
	return cmp.Or(cmp.Compare(p.ds, q.ds), cmp.Compare(p.path, q.path), cmp.Compare(p.frame, q.frame))
}

// relation returns how image y of a group relates to image x of it: the
// strongest exact kind, else a near-duplicate under the transform that
// the cluster's relations compose to (x is the representative under its
// transform, so y is x under its inverse and then y's).
func (a *analysis) relation(x, y int) (match.Kind, match.Transform, int) {
	p, q := &a.images[x], &a.images[y]
	var zero [32]byte
	switch {
	case p.fileSHA != zero && p.fileSHA == q.fileSHA && p.frame == q.frame:
		return match.IdenticalFile, 0, 0
	case p.pixSHA != zero && p.pixSHA == q.pixSHA:
		return match.IdenticalPixels, 0, 0
	case p.sop != "" && p.sop == q.sop && p.frame == q.frame:
		return match.SameDICOMInstance, 0, bits.OnesCount64(p.dihedral[0] ^ q.dihedral[0])
	}
	t := p.transform.Inverse().Then(q.transform)
	v := p.dihedral[t]
	if v == 0 {
		v = p.dihedral[0]
	}
	return match.NearDuplicate, t, bits.OnesCount64(v ^ q.dihedral[0])
}

// minMaxDistance is the least pHash distance between x and y through a
// min-max rendering of either (in their own orientation), and whether
// either has one.
func (a *analysis) minMaxDistance(x, y int) (int, bool) {
	p, q := &a.images[x], &a.images[y]
	d := 65
	if p.hasMM {
		d = min(d, bits.OnesCount64(p.mm^q.dihedral[0]))
		if q.hasMM {
			d = min(d, bits.OnesCount64(p.mm^q.mm))
		}
	}
	if q.hasMM {
		d = min(d, bits.OnesCount64(p.dihedral[0]^q.mm))
	}
	return d, p.hasMM || q.hasMM
}

// kindName is the name a closest pair is counted under in Kinds.
func kindName(k match.Kind, t match.Transform, minMax bool) string {
	if k == match.NearDuplicate && minMax {
		return "min-max-window"
	}
	if k == match.NearDuplicate && t != 0 {
		return t.String()
	}
	return k.String()
}

// maxPerDataset bounds the members of one dataset compared in a group: a
// group of thousands of blank frames must not cost millions of relations.
const maxPerDataset = 8
