package interchange

import (
	"time"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
)

// SchemaVersion is the version of the tables this package writes, stored
// in every file's key-value metadata under KeySchemaVersion. Import reads
// this version only, and refuses others with ErrVersion: a column added,
// removed or changed in meaning makes a new version. Version 2 added the
// documents table, the datasets' documents_recorded, and the images'
// preview and NIfTI volume; version 3 the volume's window ranges.
const SchemaVersion = 3

// Key-value metadata keys every exported file carries.
const (
	KeySchemaVersion = "copycat.schema_version" // SchemaVersion, in decimal
	KeyTable         = "copycat.table"          // TableDatasets, TableFiles or TableImages
	// KeySaltID identifies the salt of the index the export came from
	// (SaltID), never the salt itself: patient-ID digests compare only
	// between indexes with the same salt.
	KeySaltID = "copycat.salt_id"
)

// The tables of an export, each a file named after it with ".parquet".
const (
	TableDatasets = "datasets"
	TableFiles    = "files"
	TableImages   = "images"
	// TableDocuments holds each dataset's documentation files (licence,
	// README, card), as the index keeps them: what lineage audits.
	TableDocuments = "documents"
)

// Dataset is a row of the datasets table: one dataset of the index.
type Dataset struct {
	Dataset  string `parquet:"dataset"`
	Source   string `parquet:"source"`
	Files    int64  `parquet:"files"`
	Images   int64  `parquet:"images"`
	Failures int64  `parquet:"failures"`
	// ScanStartedNS and LastScanNS are Unix times in nanoseconds; 0 is
	// never.
	ScanStartedNS int64 `parquet:"scan_started_ns"`
	LastScanNS    int64 `parquet:"last_scan_ns"`
	Complete      bool  `parquet:"complete"`
	// DocumentsRecorded says the scan recorded the dataset's
	// documentation (an index from before it did leaves it false, and
	// lineage then says the documentation is unavailable).
	DocumentsRecorded bool `parquet:"documents_recorded"`
}

// Document is a row of the documents table: one documentation file of a
// dataset, its first index.MaxDocumentBytes.
type Document struct {
	Dataset string `parquet:"dataset"`
	Path    string `parquet:"path"`
	Size    int64  `parquet:"size"` // of the whole file
	Data    []byte `parquet:"data"`
}

// Volume describes the NIfTI volume a slice image was cut from
// (index.Volume).
type Volume struct {
	Dims      []int64   `parquet:"dims,list"`       // x, y, z, t
	PixelSize []float64 `parquet:"pixel_size,list"` // x, y, z
	Datatype  string    `parquet:"datatype"`
	QformCode int32     `parquet:"qform_code"`
	SformCode int32     `parquet:"sform_code"`
	Slice     int64     `parquet:"slice"`
	T         int64     `parquet:"t"`
	Plane     string    `parquet:"plane"` // "axial", "coronal", "sagittal", or empty
	// Windows are the slice's window ranges (index.Volume.Windows), the
	// rendered window's first.
	Windows []VolumeWindow `parquet:"windows,list"`
}

// VolumeWindow is one window's range in a NIfTI slice
// (index.VolumeWindow).
type VolumeWindow struct {
	Name string  `parquet:"name"`
	Low  float32 `parquet:"low"`
	High float32 `parquet:"high"`
}

// File is a row of the files table: one file of a dataset, read or not.
type File struct {
	Dataset string   `parquet:"dataset"`
	Path    string   `parquet:"path"`
	Size    int64    `parquet:"size"`
	ModTime int64    `parquet:"mtime_ns"` // Unix nanoseconds; 0 is unknown
	SHA256  [32]byte `parquet:"sha256"`
	Format  string   `parquet:"format"`
	Frames  int64    `parquet:"frames"`
	Failure string   `parquet:"failure"` // empty when the file was indexed
}

// Fingerprint holds the hashes of one rendering of an image
// (hash.Fingerprint).
type Fingerprint struct {
	PHash      uint64     `parquet:"phash"`
	DHash      uint64     `parquet:"dhash"`
	AHash      uint64     `parquet:"ahash"`
	PDQ        [32]byte   `parquet:"pdq"`
	PDQQuality int32      `parquet:"pdq_quality"`
	PDQZeros   int32      `parquet:"pdq_zeros"`
	Dihedral   []uint64   `parquet:"dihedral,list"` // 8 pHashes: identity, rot90, rot180, rot270, fliph, flipv, transpose, transverse
	Thumb      [1024]byte `parquet:"thumb"`         // 32x32 grey, row-major
}

// Image is a row of the images table: one image (one frame of a file) with
// its metadata and fingerprints.
type Image struct {
	Dataset           string   `parquet:"dataset"`
	Path              string   `parquet:"path"`
	Frame             int64    `parquet:"frame"`
	Format            string   `parquet:"format"`
	Width             int64    `parquet:"width"`
	Height            int64    `parquet:"height"`
	Bits              int32    `parquet:"bits"`
	Photometric       string   `parquet:"photometric"`
	Lossy             bool     `parquet:"lossy"`
	JPEGQuality       int32    `parquet:"jpeg_quality"`
	FileSize          int64    `parquet:"file_size"`
	FileSHA256        [32]byte `parquet:"file_sha256"`
	PixelSHA256       [32]byte `parquet:"pixel_sha256"`
	TransferSyntax    string   `parquet:"transfer_syntax"`
	SOPInstanceUID    string   `parquet:"sop_instance_uid"`
	SeriesInstanceUID string   `parquet:"series_instance_uid"`
	StudyInstanceUID  string   `parquet:"study_instance_uid"`
	Modality          string   `parquet:"modality"`
	PatientIDDigest   string   `parquet:"patient_id_digest"`

	Fingerprint Fingerprint `parquet:"fingerprint"`
	// MinMax is the fingerprint of the min-max rendering of a DICOM frame
	// whose stored window clips (index.Image.MinMax); null otherwise.
	MinMax *Fingerprint `parquet:"minmax,optional"`
	// Volume is set for a slice of a NIfTI volume; null otherwise.
	Volume *Volume `parquet:"volume,optional"`
	// Preview is the JPEG preview the scan stored for the HTML report;
	// empty for images indexed before previews.
	Preview []byte `parquet:"preview"`
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func datasetRow(d *index.DatasetInfo) Dataset {
	return Dataset{
		Dataset: d.Name, Source: d.Source,
		Files: int64(d.Files), Images: int64(d.Images), Failures: int64(d.Failures),
		ScanStartedNS: nanos(d.ScanStarted), LastScanNS: nanos(d.LastScan),
		Complete: d.Complete,
	}
}

func fileRow(f *index.File) File {
	return File{
		Dataset: f.Dataset, Path: f.Path, Size: f.Size, ModTime: nanos(f.ModTime),
		SHA256: f.SHA256, Format: f.Format, Frames: int64(f.Frames), Failure: f.Failure,
	}
}

func (r *File) record() index.File {
	return index.File{
		Dataset: r.Dataset, Path: r.Path, Size: r.Size, ModTime: fromNanos(r.ModTime),
		SHA256: r.SHA256, Format: r.Format, Frames: int(r.Frames), Failure: r.Failure,
	}
}

func fingerprintRow(fp *hash.Fingerprint) Fingerprint {
	return Fingerprint{
		PHash: fp.PHash, DHash: fp.DHash, AHash: fp.AHash, PDQ: fp.PDQ,
		PDQQuality: int32(fp.PDQQuality), PDQZeros: int32(fp.PDQZeros),
		Dihedral: fp.Dihedral[:], Thumb: fp.Thumb,
	}
}

func (r *Fingerprint) fingerprint() (hash.Fingerprint, bool) {
	fp := hash.Fingerprint{
		PHash: r.PHash, DHash: r.DHash, AHash: r.AHash, PDQ: r.PDQ,
		PDQQuality: int(r.PDQQuality), PDQZeros: int(r.PDQZeros), Thumb: r.Thumb,
	}
	if len(r.Dihedral) != len(fp.Dihedral) {
		return fp, false
	}
	copy(fp.Dihedral[:], r.Dihedral)
	return fp, true
}

func imageRow(im *index.Image) Image {
	r := Image{
		Dataset: im.Dataset, Path: im.Path, Frame: int64(im.Frame), Format: im.Format,
		Width: int64(im.Width), Height: int64(im.Height), Bits: int32(im.Bits),
		Photometric: im.Photometric, Lossy: im.Lossy, JPEGQuality: int32(im.JPEGQuality),
		FileSize: im.FileSize, FileSHA256: im.FileSHA256, PixelSHA256: im.PixelSHA256,
		TransferSyntax: im.TransferSyntax, SOPInstanceUID: im.SOPInstanceUID,
		SeriesInstanceUID: im.SeriesInstanceUID, StudyInstanceUID: im.StudyInstanceUID,
		Modality: im.Modality, PatientIDDigest: im.PatientIDDigest,
		Fingerprint: fingerprintRow(&im.Fingerprint),
	}
	if im.MinMax != nil {
		mm := fingerprintRow(im.MinMax)
		r.MinMax = &mm
	}
	if v := im.Volume; v != nil {
		r.Volume = &Volume{
			Dims:      []int64{int64(v.Dims[0]), int64(v.Dims[1]), int64(v.Dims[2]), int64(v.Dims[3])},
			PixelSize: []float64{v.PixelSize[0], v.PixelSize[1], v.PixelSize[2]},
			Datatype:  v.Datatype, QformCode: int32(v.QformCode), SformCode: int32(v.SformCode),
			Slice: int64(v.Slice), T: int64(v.T), Plane: v.Plane,
		}
		for _, w := range v.Windows {
			r.Volume.Windows = append(r.Volume.Windows, VolumeWindow{Name: w.Name, Low: w.Low, High: w.High})
		}
	}
	r.Preview = im.Preview
	return r
}

// record converts a row back; false when a fingerprint is malformed (the
// wrong number of dihedral hashes). The ranges of the other fields are
// index.CheckRecord's to check.
func (r *Image) record() (index.Image, bool) {
	im := index.Image{
		Dataset: r.Dataset, Path: r.Path, Frame: int(r.Frame), Format: r.Format,
		Width: int(r.Width), Height: int(r.Height), Bits: int(r.Bits),
		Photometric: r.Photometric, Lossy: r.Lossy, JPEGQuality: int(r.JPEGQuality),
		FileSize: r.FileSize, FileSHA256: r.FileSHA256, PixelSHA256: r.PixelSHA256,
		TransferSyntax: r.TransferSyntax, SOPInstanceUID: r.SOPInstanceUID,
		SeriesInstanceUID: r.SeriesInstanceUID, StudyInstanceUID: r.StudyInstanceUID,
		Modality: r.Modality, PatientIDDigest: r.PatientIDDigest,
	}
	var ok bool
	if im.Fingerprint, ok = r.Fingerprint.fingerprint(); !ok {
		return im, false
	}
	if r.MinMax != nil {
		mm, ok := r.MinMax.fingerprint()
		if !ok {
			return im, false
		}
		im.MinMax = &mm
	}
	if v := r.Volume; v != nil {
		if len(v.Dims) != 4 || len(v.PixelSize) != 3 {
			return im, false
		}
		im.Volume = &index.Volume{
			Dims:      [4]int{int(v.Dims[0]), int(v.Dims[1]), int(v.Dims[2]), int(v.Dims[3])},
			PixelSize: [3]float64{v.PixelSize[0], v.PixelSize[1], v.PixelSize[2]},
			Datatype:  v.Datatype, QformCode: int(v.QformCode), SformCode: int(v.SformCode),
			Slice: int(v.Slice), T: int(v.T), Plane: v.Plane,
		}
		for _, w := range v.Windows {
			im.Volume.Windows = append(im.Volume.Windows, index.VolumeWindow{Name: w.Name, Low: w.Low, High: w.High})
		}
	}
	if len(r.Preview) > 0 {
		im.Preview = r.Preview
	}
	return im, true
}
