package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/copycat-dev/copycat/match"
)

// Key tags: the first byte of every key names its table (see doc.go).
const (
	tagMeta    = 'M'
	tagDataset = 'D'
	tagFile    = 'F'
	tagImage   = 'I'
	tagMinMax  = 'W'
	tagPreview = 'P'
)

// Meta keys.
var (
	metaVersion     = []byte("Mversion")
	metaSalt        = []byte("Msalt")
	metaNextImage   = []byte("Mnextimage")
	metaNextDataset = []byte("Mnextdataset")
)

func datasetKey(name string) []byte {
	return append([]byte{tagDataset}, name...)
}

func filePrefix(ds uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{tagFile}, ds)
}

func fileKey(ds uint32, path string) []byte {
	k := make([]byte, 5, 5+len(path))
	k[0] = tagFile
	binary.BigEndian.PutUint32(k[1:], ds)
	return append(k, path...)
}

// imageRef is everything the in-memory search structure needs of an image,
// and exactly what its key holds: the key-only scan that loads the
// structure reads nothing else.
type imageRef struct {
	id    uint64 // image ID, allocated in order
	ds    uint32 // dataset ID
	phash uint64 // the indexed pHash
	pix   uint64 // digest8 of the pixel SHA-256; 0 when unknown
	sop   uint64 // sopDigest of SOPInstanceUID and frame; 0 when none
	// canon holds the pHashes in canonical orientation (match.Canonical),
	// which find rotated and mirrored copies; zeros in the
	// shorter keys of images indexed before schema version 3.
	canon [2]uint64
}

// fileImage is an image as its file record lists it: its image key, and
// the pHash of its min-max rendering when hasMM (see Image.MinMax), which
// is not in the image key but in a W key of its own. The search structure
// holds imageRefs only, for its size.
type fileImage struct {
	imageRef
	mm    uint64
	hasMM bool
}

// imageKeyLen is the length of an image key: tag, ID, dataset, pHash,
// pixel digest prefix, SOP digest, canonical pHash. Keys written before
// schema version 3 lack the canonical pHash (oldImageKeyLen).
const (
	imageKeyLen    = oldImageKeyLen + 16
	oldImageKeyLen = 1 + 8 + 4 + 8 + 8 + 8
)

// imageIDPrefix is the prefix of the key of image id, for lookups by ID.
func imageIDPrefix(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagImage}, id)
}

func (r imageRef) key() []byte {
	k := make([]byte, 0, imageKeyLen)
	k = append(k, tagImage)
	k = binary.BigEndian.AppendUint64(k, r.id)
	k = binary.BigEndian.AppendUint32(k, r.ds)
	k = binary.BigEndian.AppendUint64(k, r.phash)
	k = binary.BigEndian.AppendUint64(k, r.pix)
	k = binary.BigEndian.AppendUint64(k, r.sop)
	if r.canon[0] == 0 {
		return k // an image indexed before schema version 3
	}
	k = binary.BigEndian.AppendUint64(k, r.canon[0])
	return binary.BigEndian.AppendUint64(k, r.canon[1])
}

// minMaxKeyLen is the length of a min-max key: tag, image ID, dataset,
// the min-max rendering's pHash.
const minMaxKeyLen = 1 + 8 + 4 + 8

// mmKey is the key that puts the image's min-max pHash in the search
// structure; only for images with hasMM.
func (r fileImage) mmKey() []byte {
	k := make([]byte, 0, minMaxKeyLen)
	k = append(k, tagMinMax)
	k = binary.BigEndian.AppendUint64(k, r.id)
	k = binary.BigEndian.AppendUint32(k, r.ds)
	return binary.BigEndian.AppendUint64(k, r.mm)
}

// previewKeyLen is the length of a preview key: tag and image ID.
const previewKeyLen = 1 + 8

// previewKey is the key of image id's preview (Image.Preview). It is
// apart from the image record so that the reads of every record (Images,
// clusters, lineage) do not carry the previews only the HTML report shows.
func previewKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, previewKeyLen), tagPreview), id)
}

// parsePreviewKey returns the image ID of a preview key.
func parsePreviewKey(k []byte) (uint64, error) {
	if len(k) != previewKeyLen || k[0] != tagPreview {
		return 0, fmt.Errorf("%w: bad preview key %q", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// parseMinMaxKey splits a min-max key into image ID, dataset and pHash.
func parseMinMaxKey(k []byte) (id uint64, ds uint32, phash uint64, err error) {
	if len(k) != minMaxKeyLen || k[0] != tagMinMax {
		return 0, 0, 0, fmt.Errorf("%w: bad min-max key %q", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[1:9]), binary.BigEndian.Uint32(k[9:13]), binary.BigEndian.Uint64(k[13:21]), nil
}

// parseImageKey splits an image key.
func parseImageKey(k []byte) (imageRef, error) {
	if len(k) != imageKeyLen && len(k) != oldImageKeyLen || k[0] != tagImage {
		return imageRef{}, fmt.Errorf("%w: bad image key %q", ErrCorrupt, k)
	}
	r := imageRef{
		id:    binary.BigEndian.Uint64(k[1:9]),
		ds:    binary.BigEndian.Uint32(k[9:13]),
		phash: binary.BigEndian.Uint64(k[13:21]),
		pix:   binary.BigEndian.Uint64(k[21:29]),
		sop:   binary.BigEndian.Uint64(k[29:37]),
	}
	if len(k) == imageKeyLen {
		r.canon = [2]uint64{binary.BigEndian.Uint64(k[37:45]), binary.BigEndian.Uint64(k[45:53])}
		if r.canon[0] == 0 {
			return imageRef{}, fmt.Errorf("%w: image key %q with a zero canonical pHash", ErrCorrupt, k)
		}
	}
	return r, nil
}

// refOf is the reference of image im of dataset ds.
func refOf(im *Image, ds uint32) imageRef {
	return imageRef{
		id:    im.ID,
		ds:    ds,
		phash: im.Fingerprint.PHash,
		pix:   digest8(im.PixelSHA256),
		sop:   sopDigest(im.SOPInstanceUID, im.Frame),
		canon: match.Canonical(&im.Fingerprint),
	}
}

// fileImageOf is image im of dataset ds as its file record lists it.
func fileImageOf(im *Image, ds uint32) fileImage {
	f := fileImage{imageRef: refOf(im, ds)}
	if im.MinMax != nil {
		f.mm, f.hasMM = im.MinMax.PHash, true
	}
	return f
}

// digest8 is the first 8 bytes of a digest: enough to find candidates in
// memory (a false match is one in 2^64, and is ruled out by the full digest
// in the record).
func digest8(d [32]byte) uint64 {
	return binary.BigEndian.Uint64(d[:8])
}

// sopDigest identifies one frame of one DICOM instance: a digest of the
// SOP Instance UID and the frame number, 0 when there is no UID.
func sopDigest(uid string, frame int) uint64 {
	if !sopIndexable(uid) {
		return 0
	}
	h := sha256.New()
	h.Write([]byte(uid))
	h.Write(binary.BigEndian.AppendUint32([]byte{0}, uint32(frame)))
	var sum [32]byte
	h.Sum(sum[:0])
	if v := digest8(sum); v != 0 {
		return v
	}
	return 1
}

// sopIndexable reports whether a SOP Instance UID identifies anything:
// empty ones and ones holding NUL bytes (a decoder's leftover padding) do
// not. Real UIDs are digits and dots.
func sopIndexable(uid string) bool {
	return uid != "" && !strings.ContainsRune(uid, 0)
}

// parseFileKey splits a file key into dataset ID and path.
func parseFileKey(k []byte) (ds uint32, path string, err error) {
	if len(k) < 5 || k[0] != tagFile {
		return 0, "", fmt.Errorf("%w: bad file key %q", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint32(k[1:5]), string(k[5:]), nil
}

// parseKey checks that any key of the index is well formed; the fuzz target
// and the consistency check use it.
func parseKey(k []byte) error {
	if len(k) == 0 {
		return fmt.Errorf("%w: empty key", ErrCorrupt)
	}
	switch k[0] {
	case tagMeta:
		for _, m := range [][]byte{metaVersion, metaSalt, metaNextImage, metaNextDataset, metaPairs} {
			if bytes.Equal(k, m) {
				return nil
			}
		}
		return fmt.Errorf("%w: unknown meta key %q", ErrCorrupt, k)
	case tagDataset:
		return checkDatasetName(string(k[1:]))
	case tagFile:
		_, _, err := parseFileKey(k)
		return err
	case tagImage:
		_, err := parseImageKey(k)
		return err
	case tagMinMax:
		_, _, _, err := parseMinMaxKey(k)
		return err
	case tagDoc:
		_, _, err := parseDocKey(k)
		return err
	case tagPreview:
		_, err := parsePreviewKey(k)
		return err
	case tagPair:
		_, err := parsePairKey(k)
		return err
	}
	return fmt.Errorf("%w: unknown key tag %q", ErrCorrupt, k[0])
}

// MaxDatasetName is the longest dataset name accepted, in bytes.
const MaxDatasetName = 200

// checkDatasetName accepts non-empty UTF-8 names without control
// characters: names are shown in reports and typed on command lines.
func checkDatasetName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty dataset name", ErrBadName)
	}
	if len(name) > MaxDatasetName {
		return fmt.Errorf("%w: dataset name longer than %d bytes", ErrBadName, MaxDatasetName)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: dataset name %q is not UTF-8", ErrBadName, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: dataset name %q has a control character", ErrBadName, name)
		}
	}
	return nil
}
