package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

// Rec is an image as the pairs step moves it between workers: its ID and
// what match.Compare reads of it, encoded by encodeImage (about 1.2 KB,
// 2.3 KB with a min-max rendering). Beam's own struct coding is not used
// for the fingerprint: it has fixed-size arrays.
type Rec struct {
	ID uint64
	// Order is the image's place in the inputs: the export's index in
	// PairsOptions.Exports, then its row. An index that imports the
	// exports in that order gives its images IDs in this order, and
	// compares every pair lower ID first: so does the pairs step.
	Order uint64
	Blob  []byte
}

// imageID names an image inside one pipeline run: the first 8 bytes of
// SHA-256 of dataset, path and frame. Index IDs are local to an index;
// names are long. Two names with one ID (one chance in 10^7 among 10^6
// images... 2^-64 per pair) are detected where records are joined, and
// fail the run.
func imageID(dataset, path string, frame int) uint64 {
	h := sha256.New()
	h.Write([]byte(dataset))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write(binary.BigEndian.AppendUint64([]byte{0}, uint64(frame)))
	var sum [32]byte
	h.Sum(sum[:0])
	return binary.BigEndian.Uint64(sum[:8])
}

const recVersion = 1

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFingerprint(b []byte, fp *hash.Fingerprint) []byte {
	b = binary.BigEndian.AppendUint64(b, fp.PHash)
	b = binary.BigEndian.AppendUint64(b, fp.DHash)
	b = binary.BigEndian.AppendUint64(b, fp.AHash)
	b = append(b, fp.PDQ[:]...)
	b = binary.AppendVarint(b, int64(fp.PDQQuality))
	b = binary.AppendVarint(b, int64(fp.PDQZeros))
	for _, d := range fp.Dihedral {
		b = binary.BigEndian.AppendUint64(b, d)
	}
	return append(b, fp.Thumb[:]...)
}

// encodeImage encodes what match reads of im.
func encodeImage(im *index.Image) []byte {
	b := make([]byte, 0, 1400)
	b = append(b, recVersion)
	b = appendString(b, im.Dataset)
	b = appendString(b, im.Path)
	b = binary.AppendVarint(b, int64(im.Frame))
	b = appendString(b, im.Format)
	b = binary.AppendVarint(b, int64(im.Width))
	b = binary.AppendVarint(b, int64(im.Height))
	b = binary.AppendVarint(b, int64(im.Bits))
	lossy := byte(0)
	if im.Lossy {
		lossy = 1
	}
	b = append(b, lossy)
	b = append(b, im.FileSHA256[:]...)
	b = append(b, im.PixelSHA256[:]...)
	b = appendString(b, im.SOPInstanceUID)
	b = appendString(b, im.SeriesInstanceUID)
	b = appendFingerprint(b, &im.Fingerprint)
	if im.MinMax == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return appendFingerprint(b, im.MinMax)
}

var errRec = errors.New("pipeline: malformed record")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.err = errRec
		return make([]byte, max(n, 0))
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errRec
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errRec
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) string() string { return string(d.take(int(min(d.uvarint(), 1<<20)))) }
func (d *decoder) u64() uint64    { return binary.BigEndian.Uint64(d.take(8)) }

func (d *decoder) fingerprint() *hash.Fingerprint {
	fp := &hash.Fingerprint{PHash: d.u64(), DHash: d.u64(), AHash: d.u64()}
	copy(fp.PDQ[:], d.take(32))
	fp.PDQQuality, fp.PDQZeros = d.varint(), d.varint()
	for i := range fp.Dihedral {
		fp.Dihedral[i] = d.u64()
	}
	copy(fp.Thumb[:], d.take(len(fp.Thumb)))
	return fp
}

// decodeImage decodes a Rec into what match.Compare reads.
func decodeImage(r Rec) (*match.Image, error) {
	d := &decoder{b: r.Blob}
	if v := d.take(1); v[0] != recVersion {
		return nil, fmt.Errorf("%w: version %d", errRec, v[0])
	}
	im := &match.Image{ID: r.ID, Dataset: d.string(), Path: d.string(), Frame: d.varint(), Format: d.string(),
		Width: d.varint(), Height: d.varint(), Bits: d.varint()}
	im.Lossy = d.take(1)[0] == 1
	copy(im.FileSHA256[:], d.take(32))
	copy(im.PixelSHA256[:], d.take(32))
	im.SOP, im.Series = d.string(), d.string()
	im.Fingerprint = d.fingerprint()
	if d.take(1)[0] == 1 {
		im.MinMax = d.fingerprint()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errRec
	}
	if d.err != nil {
		return nil, d.err
	}
	return im, nil
}
