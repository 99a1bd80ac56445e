package index

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/copycat-dev/copycat/hash"
)

// File is what the index remembers about one file of a dataset: enough to
// tell on the next scan whether it changed, and why it failed if it did.
type File struct {
	Dataset string    // filled in on reads; Writer.Put ignores it
	Path    string    // path inside the dataset, e.g. "upload.zip!/train/0001.dcm"
	Size    int64     // bytes
	ModTime time.Time // as the walk reported it; compared to the nanosecond
	SHA256  [32]byte  // digest of the file's bytes (zero if it was never read)
	Format  string    // "dicom", "png", "jpeg", or what ingest called it
	Frames  int       // frames the file holds (images indexed for it, unless it failed)
	Failure string    // why the file could not be indexed; empty when it was
}

// Image is one indexed image: one frame of a file, with everything the scan
// learnt about it and its fingerprint.
type Image struct {
	ID          uint64 // assigned by the index; stable until the file is rescanned or removed
	Dataset     string // filled in on reads; Writer.Put ignores it
	Path        string // path inside the dataset (Writer.Put sets it to the File's path)
	Frame       int    // 0-based frame number within the file
	Format      string
	Width       int
	Height      int
	Bits        int
	Photometric string
	Lossy       bool
	JPEGQuality int // libjpeg quality (1-100) estimated for JPEG-coded data; 0 otherwise
	FileSize    int64
	FileSHA256  [32]byte // digest of the whole file
	PixelSHA256 [32]byte // digest of the normalised pixels of this frame

	TransferSyntax    string // DICOM only, like the four below
	SOPInstanceUID    string
	SeriesInstanceUID string
	StudyInstanceUID  string
	Modality          string
	PatientIDDigest   string // salted digest, never the ID itself

	Fingerprint hash.Fingerprint
	// MinMax, when not nil, is the fingerprint of the frame rendered with a
	// min-max window instead of the window its DICOM header stores: the
	// picture a script that scales each slice from its minimum to its
	// maximum exports, and a different one when the stored window clips.
	// Searches and clusters match either rendering.
	MinMax *hash.Fingerprint
	// Volume describes the NIfTI volume a slice was cut from; nil for
	// every other image.
	Volume *Volume
	// Preview is a small picture of the image for people to look at (the
	// HTML report): JPEG, longest side at most 96 px or so, true aspect
	// ratio and colour, made by the scan. It is stored under a key of its
	// own (see doc.go), so reads of image records leave it nil: Store.Preview
	// reads it. Nil when the scan made none (older indexes).
	Preview []byte
}

// Volume is what an image record keeps of a NIfTI volume, so that lineage
// can say which slices of how many a dump took.
type Volume struct {
	Dims      [4]int     // voxels along x, y, z, and the number of volumes (time points, channels)
	PixelSize [3]float64 // usually mm
	Datatype  string     // "int16", "float32", ...
	QformCode int        // NIfTI's orientation codes: 0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI
	SformCode int
	Slice, T  int    // the image's index along z, and its volume
	Plane     string // "axial", "coronal", "sagittal", or "" (unknown orientation)
	// Windows are what the windows of slice-dump scripts map to black
	// and to white in this slice, in the volume's values, named as ingest
	// names them ("percentile 0.5-99.5"): the first is the window of the
	// fingerprint's rendering, the second that of MinMax when the image
	// has one. Lineage fits a dump's grey levels to the rendering's and
	// names the window whose range the dump's black and white come
	// closest to. Nil for RGB volumes and in records before version 6.
	Windows []VolumeWindow
}

// VolumeWindow is one window's range in a NIfTI slice. float32 keeps
// the record small and is far finer than the 8-bit levels it is
// compared through.
type VolumeWindow struct {
	Name      string
	Low, High float32
}

// Record encodings. Every value starts with a version byte so that a later
// copycat can read an older index, and an older one refuses a newer index
// instead of misreading it. Integers are varints, strings and byte strings
// are length-prefixed, fixed-size digests are stored raw.
const (
	fileRecordV1    = 1
	imageRecordV1   = 1
	imageRecordV2   = 2 // adds JPEGQuality after Lossy
	imageRecordV3   = 3 // adds PDQZeros to fingerprints, and the optional min-max fingerprint at the end
	imageRecordV4   = 4 // adds the optional NIfTI volume at the end
	imageRecordV5   = 5 // adds the volume's plane
	imageRecordV6   = 6 // adds the volume's window ranges
	fileRecordV2    = 2 // adds each image's optional min-max pHash
	fileRecordV3    = 3 // adds each image's two canonical pHashes (zeros: an image key without them)
	datasetRecordV1 = 1
)

// datasetState says whether a dataset's last scan finished.
type datasetState uint8

const (
	stateComplete   datasetState = 0 // the last scan finished
	stateScanning   datasetState = 1 // a scan began and has not finished (or was interrupted)
	stateForgetting datasetState = 2 // Forget began; its records are being deleted
)

// datasetRecord is the value of a dataset key.
type datasetRecord struct {
	ID          uint32
	Source      string
	Gen         uint64 // generation of the current (or last) scan
	State       datasetState
	Files       int
	Images      int
	Failures    int
	ScanStarted time.Time // when the current or last scan began
	LastScan    time.Time // when the last scan finished; zero if none did
}

// fileRecord is the value of a file key.
type fileRecord struct {
	File
	Gen    uint64      // generation of the last scan that saw the file
	Images []fileImage // the keys of its images, in frame order (ds is the file's)
	// beforeCanonical is set when the record predates canonical pHashes
	// (file record version 3): its images' keys lack them.
	beforeCanonical bool
}

// encoder appends to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) byte(v byte)       { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) u64(v uint64)      { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) u32(v uint32)      { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) raw(v []byte)      { e.b = append(e.b, v...) }
func (e *encoder) bytes(v []byte)    { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) string(v string)   { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) time(t time.Time)  { e.varint(timeNanos(t)) }
func (e *encoder) bool(v bool)       { e.byte(boolByte(v)) }
func (e *encoder) int(v int)         { e.varint(int64(v)) }
func (e *encoder) digest(d [32]byte) { e.b = append(e.b, d[:]...) }

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// timeNanos maps the zero time to 0, so that "never" round-trips.
func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func nanosTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// decoder reads what encoder wrote. The first error sticks; reads after it
// return zero values, so decoding functions check d.err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or malformed %s", ErrCorrupt, what)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail("uint64")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) u32() uint32 {
	if d.err != nil || len(d.b) < 4 {
		d.fail("uint32")
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// int reads a varint that must fit an int and be in [lo, hi].
func (d *decoder) int(lo, hi int64) int {
	v := d.varint()
	if v < lo || v > hi {
		d.fail("integer out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) raw(dst []byte) {
	if d.err != nil || len(d.b) < len(dst) {
		d.fail("fixed-size field")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

func (d *decoder) digest() (v [32]byte) {
	d.raw(v[:])
	return v
}

func (d *decoder) time() time.Time { return nanosTime(d.varint()) }

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("boolean")
	return false
}

// version checks the leading version byte.
func (d *decoder) version(what string, want byte) {
	if v := d.byte(); d.err == nil && v != want {
		d.err = fmt.Errorf("%w: %s record version %d (this copycat reads version %d)", ErrVersion, what, v, want)
	}
}

// end reports trailing bytes as corruption and returns the sticky error.
func (d *decoder) end(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes after %s record", ErrCorrupt, len(d.b), what)
	}
	return d.err
}

// Limits a decoder enforces, so that a corrupt length cannot make it
// allocate without bound.
const (
	maxFrames = 1 << 24
	maxInt32  = math.MaxInt32
	// maxVolumeWindows bounds a volume's window ranges (ingest has five).
	maxVolumeWindows = 64
)

func encodeDataset(r *datasetRecord) []byte {
	e := encoder{b: make([]byte, 0, 64+len(r.Source))}
	e.byte(datasetRecordV1)
	e.uvarint(uint64(r.ID))
	e.string(r.Source)
	e.uvarint(r.Gen)
	e.byte(byte(r.State))
	e.int(r.Files)
	e.int(r.Images)
	e.int(r.Failures)
	e.time(r.ScanStarted)
	e.time(r.LastScan)
	return e.b
}

func decodeDataset(b []byte) (datasetRecord, error) {
	d := decoder{b: b}
	var r datasetRecord
	d.version("dataset", datasetRecordV1)
	id := d.uvarint()
	if id > math.MaxUint32 {
		d.fail("dataset id")
	}
	r.ID = uint32(id)
	r.Source = d.string()
	r.Gen = d.uvarint()
	r.State = datasetState(d.byte())
	if r.State > stateForgetting {
		d.fail("dataset state")
	}
	r.Files = d.int(0, math.MaxInt64)
	r.Images = d.int(0, math.MaxInt64)
	r.Failures = d.int(0, math.MaxInt64)
	r.ScanStarted = d.time()
	r.LastScan = d.time()
	return r, d.end("dataset")
}

func encodeFile(r *fileRecord) []byte {
	e := encoder{b: make([]byte, 0, 80+len(r.Format)+len(r.Failure)+37*len(r.Images))}
	e.byte(fileRecordV3)
	e.uvarint(r.Gen)
	e.varint(r.Size)
	e.time(r.ModTime)
	e.digest(r.SHA256)
	e.string(r.Format)
	e.int(r.Frames)
	e.string(r.Failure)
	// Image IDs of one file are allocated together: delta-encode them.
	e.uvarint(uint64(len(r.Images)))
	var prev uint64
	for _, ref := range r.Images {
		e.uvarint(ref.id - prev)
		prev = ref.id
		e.u64(ref.phash)
		e.u64(ref.pix)
		e.u64(ref.sop)
		e.bool(ref.hasMM)
		if ref.hasMM {
			e.u64(ref.mm)
		}
		e.u64(ref.canon[0])
		e.u64(ref.canon[1])
	}
	return e.b
}

// decodeFile decodes a file record; dataset and path come from the key
// (and the dataset of its image references from the caller).
func decodeFile(b []byte, ds uint32) (fileRecord, error) {
	d := decoder{b: b}
	var r fileRecord
	v := d.byte()
	if d.err == nil && (v < fileRecordV1 || v > fileRecordV3) {
		d.err = fmt.Errorf("%w: file record version %d (this copycat reads versions %d to %d)", ErrVersion, v, fileRecordV1, fileRecordV3)
	}
	r.beforeCanonical = v < fileRecordV3
	r.Gen = d.uvarint()
	r.Size = d.varint()
	r.ModTime = d.time()
	r.SHA256 = d.digest()
	r.Format = d.string()
	r.Frames = d.int(0, maxFrames)
	r.Failure = d.string()
	n := d.uvarint()
	if n > maxFrames || n > uint64(len(d.b))/25 {
		d.fail("image count")
		n = 0
	}
	if n > 0 {
		r.Images = make([]fileImage, n)
	}
	var prev uint64
	for i := range r.Images {
		delta := d.uvarint()
		if i > 0 && delta == 0 {
			d.fail("image ids")
		}
		prev += delta
		r.Images[i].imageRef = imageRef{id: prev, ds: ds, phash: d.u64(), pix: d.u64(), sop: d.u64()}
		if v >= fileRecordV2 && d.bool() {
			r.Images[i].mm, r.Images[i].hasMM = d.u64(), true
		}
		if v >= fileRecordV3 {
			r.Images[i].canon = [2]uint64{d.u64(), d.u64()}
		}
	}
	return r, d.end("file")
}

// encodeImage encodes an image record. The dataset is stored as its ID.
func encodeImage(im *Image, dsID uint32) []byte {
	fp := &im.Fingerprint
	// About 1,250 bytes of fixed fields (1 KB of them the thumbnail) and
	// the strings: sized once, so that long DICOM UIDs do not make append
	// copy the record.
	n := 1300 + len(im.Path) + len(im.Format) + len(im.Photometric) + len(im.TransferSyntax) +
		len(im.SOPInstanceUID) + len(im.SeriesInstanceUID) + len(im.StudyInstanceUID) +
		len(im.Modality) + len(im.PatientIDDigest)
	if im.MinMax != nil {
		n += 1100
	}
	e := encoder{b: make([]byte, 0, n)}
	e.byte(imageRecordV6)
	e.uvarint(uint64(dsID))
	e.string(im.Path)
	e.int(im.Frame)
	e.string(im.Format)
	e.int(im.Width)
	e.int(im.Height)
	e.int(im.Bits)
	e.string(im.Photometric)
	e.bool(im.Lossy)
	e.int(im.JPEGQuality)
	e.varint(im.FileSize)
	e.digest(im.FileSHA256)
	e.digest(im.PixelSHA256)
	e.string(im.TransferSyntax)
	e.string(im.SOPInstanceUID)
	e.string(im.SeriesInstanceUID)
	e.string(im.StudyInstanceUID)
	e.string(im.Modality)
	e.string(im.PatientIDDigest)
	e.fingerprint(fp)
	e.bool(im.MinMax != nil)
	if im.MinMax != nil {
		e.fingerprint(im.MinMax)
	}
	e.bool(im.Volume != nil)
	if v := im.Volume; v != nil {
		for _, d := range v.Dims {
			e.int(d)
		}
		for _, p := range v.PixelSize {
			e.u64(math.Float64bits(p))
		}
		e.string(v.Datatype)
		e.int(v.QformCode)
		e.int(v.SformCode)
		e.int(v.Slice)
		e.int(v.T)
		e.string(v.Plane)
		e.uvarint(uint64(len(v.Windows)))
		for _, w := range v.Windows {
			e.string(w.Name)
			e.u32(math.Float32bits(w.Low))
			e.u32(math.Float32bits(w.High))
		}
	}
	return e.b
}

// fingerprint writes a fingerprint as image records of imageRecordV3 hold it.
func (e *encoder) fingerprint(fp *hash.Fingerprint) {
	e.u64(fp.PHash)
	e.u64(fp.DHash)
	e.u64(fp.AHash)
	e.raw(fp.PDQ[:])
	e.int(fp.PDQQuality)
	e.int(fp.PDQZeros)
	for _, h := range fp.Dihedral {
		e.u64(h)
	}
	e.bytes(fp.Thumb[:])
}

// decodeImage decodes an image record: the ID comes from the key, the
// dataset name from the caller's map of dataset IDs.
func decodeImage(b []byte) (Image, uint32, error) {
	d := decoder{b: b}
	var im Image
	v := d.byte()
	if d.err == nil && (v < imageRecordV1 || v > imageRecordV6) {
		d.err = fmt.Errorf("%w: image record version %d (this copycat reads versions %d to %d)", ErrVersion, v, imageRecordV1, imageRecordV6)
	}
	ds := d.uvarint()
	if ds > math.MaxUint32 {
		d.fail("dataset id")
	}
	im.Path = d.string()
	im.Frame = d.int(0, maxFrames)
	im.Format = d.string()
	im.Width = d.int(0, maxInt32)
	im.Height = d.int(0, maxInt32)
	im.Bits = d.int(0, 64)
	im.Photometric = d.string()
	im.Lossy = d.bool()
	if v >= imageRecordV2 {
		im.JPEGQuality = d.int(0, 100)
	}
	im.FileSize = d.varint()
	im.FileSHA256 = d.digest()
	im.PixelSHA256 = d.digest()
	im.TransferSyntax = d.string()
	im.SOPInstanceUID = d.string()
	im.SeriesInstanceUID = d.string()
	im.StudyInstanceUID = d.string()
	im.Modality = d.string()
	im.PatientIDDigest = d.string()
	d.fingerprint(&im.Fingerprint, v)
	if v >= imageRecordV3 && d.bool() {
		im.MinMax = new(hash.Fingerprint)
		d.fingerprint(im.MinMax, v)
	}
	if v >= imageRecordV4 && d.bool() {
		vol := &Volume{}
		for i := range vol.Dims {
			vol.Dims[i] = d.int(0, math.MaxInt64)
		}
		for i := range vol.PixelSize {
			vol.PixelSize[i] = math.Float64frombits(d.u64())
		}
		vol.Datatype = d.string()
		vol.QformCode = d.int(math.MinInt32, maxInt32)
		vol.SformCode = d.int(math.MinInt32, maxInt32)
		vol.Slice = d.int(0, math.MaxInt64)
		vol.T = d.int(0, math.MaxInt64)
		if v >= imageRecordV5 {
			vol.Plane = d.string()
		}
		if v >= imageRecordV6 {
			n := d.uvarint()
			if n > maxVolumeWindows {
				d.fail("window count")
				n = 0
			}
			if n > 0 {
				vol.Windows = make([]VolumeWindow, n)
			}
			for i := range vol.Windows {
				vol.Windows[i] = VolumeWindow{Name: d.string(), Low: math.Float32frombits(d.u32()), High: math.Float32frombits(d.u32())}
			}
		}
		im.Volume = vol
	}
	return im, uint32(ds), d.end("image")
}

// fingerprint reads a fingerprint of an image record of version v.
func (d *decoder) fingerprint(fp *hash.Fingerprint, v byte) {
	fp.PHash = d.u64()
	fp.DHash = d.u64()
	fp.AHash = d.u64()
	d.raw(fp.PDQ[:])
	fp.PDQQuality = d.int(math.MinInt32, maxInt32)
	if v >= imageRecordV3 {
		fp.PDQZeros = d.int(0, 256)
	}
	for i := range fp.Dihedral {
		fp.Dihedral[i] = d.u64()
	}
	// The thumbnail is length-prefixed so that a later version can change
	// its size; this version knows one size only.
	if n := d.uvarint(); d.err == nil && n != uint64(len(fp.Thumb)) {
		d.fail("thumbnail size")
	}
	d.raw(fp.Thumb[:])
}
