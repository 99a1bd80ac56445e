package interchange

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/copycat-dev/copycat/match"
)

// The pairs table: verified pairs computed outside the index (by the Beam
// pipeline's pairs step, beam/), which ImportPairs loads into an index
// holding the same images. It is versioned apart from the export's
// tables, and each file of a pairs output carries the same metadata:
//
//	copycat.table           "pairs"
//	copycat.schema_version  PairsSchemaVersion ("1")
//	copycat.max_distance    the pHash distance of the search (decimal)
//	copycat.no_transforms   "true" when rotated and mirrored copies were
//	                        left out, else "false"
//	copycat.images          how many images the search ran on (decimal)
//	copycat.images_digest   ImageSet's digest of them (16 hex digits)
//
// pairs.parquet (or several files, parts of one output), one row per
// verified pair, A before B in (dataset, path, frame) order:
//
//	a_dataset, a_path  string
//	a_frame            int64
//	b_dataset, b_path  string
//	b_frame            int64
//	kind               string  match.Kind: "identical-file", "near-duplicate"...
//	transform          string  what was done to A to make B ("none", "flip-left-right", "crop"...)
//	distance           int32   pHash distance under the transform
//	score              double  thumbnail correlation (1 for exact kinds)
//
// kind to score are for people and other tools: ImportPairs verifies
// every pair again with the index's records, as Clusters does.
const (
	PairsSchemaVersion = 1
	TablePairs         = "pairs"

	KeyMaxDistance  = "copycat.max_distance"
	KeyNoTransforms = "copycat.no_transforms"
	KeyImages       = "copycat.images"
	KeyImagesDigest = "copycat.images_digest"
)

// Pair is a row of the pairs table.
type Pair struct {
	ADataset  string  `parquet:"a_dataset"`
	APath     string  `parquet:"a_path"`
	AFrame    int64   `parquet:"a_frame"`
	BDataset  string  `parquet:"b_dataset"`
	BPath     string  `parquet:"b_path"`
	BFrame    int64   `parquet:"b_frame"`
	Kind      string  `parquet:"kind"`
	Transform string  `parquet:"transform"`
	Distance  int32   `parquet:"distance"`
	Score     float64 `parquet:"score"`
}

// ImageName names an image across indexes and pipelines: image IDs are
// local to an index.
type ImageName struct {
	Dataset, Path string
	Frame         int64
}

// Compare orders names by dataset, path and frame.
func (n ImageName) Compare(o ImageName) int {
	return cmp.Or(cmp.Compare(n.Dataset, o.Dataset), cmp.Compare(n.Path, o.Path), cmp.Compare(n.Frame, o.Frame))
}

// NewPair is the row of the verified pair of images a and b, where r is
// match.Compare(a, b); it puts the names in order (the relation is kept
// as computed, from a to b, whichever comes first).
func NewPair(a, b ImageName, r match.Result) Pair {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return Pair{
		ADataset: a.Dataset, APath: a.Path, AFrame: a.Frame,
		BDataset: b.Dataset, BPath: b.Path, BFrame: b.Frame,
		Kind: r.Kind.String(), Transform: r.TransformName(), Distance: int32(r.Distance), Score: r.Score,
	}
}

// Names returns the pair's images.
func (p *Pair) Names() (ImageName, ImageName) {
	return ImageName{p.ADataset, p.APath, p.AFrame}, ImageName{p.BDataset, p.BPath, p.BFrame}
}

// SortPairs orders rows by A, then B: the order of a pairs file written
// by one writer, and the order to compare two outputs in.
func SortPairs(rows []Pair) {
	slices.SortFunc(rows, func(x, y Pair) int {
		xa, xb := x.Names()
		ya, yb := y.Names()
		return cmp.Or(xa.Compare(ya), xb.Compare(yb))
	})
}

// ImageSet summarises a set of images so that a pairs output and an
// index can be checked to hold the same ones: their count and the sum
// (mod 2^64) of a digest of each image's name and pixel SHA-256. A sum
// does not depend on order, so parts computed apart (on workers) add up.
type ImageSet struct {
	Images int64
	Digest uint64
}

// Add counts one image.
func (s *ImageSet) Add(n ImageName, pixelSHA256 [32]byte) {
	h := sha256.New()
	h.Write([]byte(n.Dataset))
	h.Write([]byte{0})
	h.Write([]byte(n.Path))
	h.Write(binary.BigEndian.AppendUint64([]byte{0}, uint64(n.Frame)))
	h.Write(pixelSHA256[:])
	var sum [32]byte
	h.Sum(sum[:0])
	s.Images++
	s.Digest += binary.BigEndian.Uint64(sum[:8])
}

// Merge adds the images of o.
func (s *ImageSet) Merge(o ImageSet) {
	s.Images += o.Images
	s.Digest += o.Digest
}

// PairsMeta is the metadata every file of a pairs output carries.
type PairsMeta struct {
	MaxDistance  int
	NoTransforms bool
	Set          ImageSet
}

// PairWriter writes one file of a pairs output. It is not safe for
// concurrent use; Close finishes the file.
type PairWriter struct {
	t *table[Pair]
}

// NewPairWriter starts the pairs file path (written under a temporary
// name until Close) with metadata m.
func NewPairWriter(path string, m PairsMeta) (*PairWriter, error) {
	t := &table[Pair]{path: path, tmp: path + ".tmp"}
	f, err := os.Create(t.tmp)
	if err != nil {
		return nil, fmt.Errorf("write pairs: %w", err)
	}
	t.f = f
	t.w = parquet.NewGenericWriter[Pair](f,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.KeyValueMetadata(KeySchemaVersion, strconv.Itoa(PairsSchemaVersion)),
		parquet.KeyValueMetadata(KeyTable, TablePairs),
		parquet.KeyValueMetadata(KeyMaxDistance, strconv.Itoa(m.MaxDistance)),
		parquet.KeyValueMetadata(KeyNoTransforms, strconv.FormatBool(m.NoTransforms)),
		parquet.KeyValueMetadata(KeyImages, strconv.FormatInt(m.Set.Images, 10)),
		parquet.KeyValueMetadata(KeyImagesDigest, fmt.Sprintf("%016x", m.Set.Digest)),
		parquet.CreatedBy("copycat", strconv.Itoa(PairsSchemaVersion), ""),
	)
	return &PairWriter{t: t}, nil
}

// Write adds a row.
func (w *PairWriter) Write(p Pair) error { return w.t.add(p) }

// Close finishes the file and renames it to its path.
func (w *PairWriter) Close() error {
	if _, err := w.t.close(); err != nil {
		os.Remove(w.t.tmp)
		return err
	}
	if err := os.Rename(w.t.tmp, w.t.path); err != nil {
		return fmt.Errorf("write pairs: %w", err)
	}
	return nil
}

// Abort drops the file.
func (w *PairWriter) Abort() { w.t.abort() }

// ErrPairsMismatch means a pairs output was computed on other images than
// the index holds, or its files disagree with one another.
var ErrPairsMismatch = errors.New("interchange: pairs of another image set")

// ReadPairs reads the pairs files and returns their metadata (which all
// must share) and rows. A file that is not a pairs table of this version
// gives an error wrapping ErrFormat or ErrVersion, naming it.
func ReadPairs(paths []string) (PairsMeta, []Pair, error) {
	var meta PairsMeta
	var rows []Pair
	for i, path := range paths {
		m, rs, err := readPairsFile(path)
		if err != nil {
			return meta, nil, err
		}
		if i == 0 {
			meta = m
		} else if m != meta {
			return meta, nil, fmt.Errorf("import pairs %s: %w: metadata %+v differs from %s's %+v", path, ErrPairsMismatch, m, paths[0], meta)
		}
		rows = append(rows, rs...)
	}
	return meta, rows, nil
}

func readPairsFile(path string) (PairsMeta, []Pair, error) {
	var m PairsMeta
	f, err := os.Open(path)
	if err != nil {
		return m, nil, fmt.Errorf("import pairs: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return m, nil, fmt.Errorf("import pairs: %w", err)
	}
	var rows []Pair
	err = safely(func() error {
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
		if v, _ := pf.Lookup(KeyTable); v != TablePairs {
			return fmt.Errorf("%w: table %q, want %q", ErrFormat, v, TablePairs)
		}
		v, _ := pf.Lookup(KeySchemaVersion)
		if n, err := strconv.Atoi(v); err != nil || n != PairsSchemaVersion {
			return fmt.Errorf("%w: pairs schema version %q (this copycat reads %d)", ErrVersion, v, PairsSchemaVersion)
		}
		if !parquet.EqualNodes(parquet.SchemaOf(new(Pair)), pf.Schema()) {
			return fmt.Errorf("%w: columns differ from pairs schema version %d's: %s", ErrFormat, PairsSchemaVersion, columnNames(pf.Schema()))
		}
		lookup := func(k string) string { v, _ := pf.Lookup(k); return v }
		var err1, err2, err3, err4 error
		m.MaxDistance, err1 = strconv.Atoi(lookup(KeyMaxDistance))
		m.NoTransforms, err2 = strconv.ParseBool(lookup(KeyNoTransforms))
		m.Set.Images, err3 = strconv.ParseInt(lookup(KeyImages), 10, 64)
		m.Set.Digest, err4 = strconv.ParseUint(lookup(KeyImagesDigest), 16, 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil || m.MaxDistance < 0 || m.MaxDistance > 64 {
			return fmt.Errorf("%w: bad metadata: %v", ErrFormat, err)
		}
		r := parquet.NewGenericReader[Pair](pf)
		defer r.Close()
		buf := make([]Pair, readBatch)
		for {
			n, err := r.Read(buf)
			rows = append(rows, buf[:n]...)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%w: %w", ErrFormat, err)
			}
		}
	})
	if err != nil {
		return m, nil, fmt.Errorf("import pairs %s: %w", path, err)
	}
	return m, rows, nil
}
