// Package interchange moves an index's records in and out as Parquet
// files, so that work can be split past one machine: N machines scan
// shards of a tree into N indexes (scan.Options.Shard), export them, and
// one index imports the N exports and clusters the union. Other tools
// (a Beam pipeline, DuckDB, Spark, pandas) read the same files.
//
// It is a package of its own, above index, because it is the one place
// that knows both the store's records and a file format: index stays the
// only package importing Badger, and the Parquet library stays out of
// every other package.
//
// The Parquet library is github.com/parquet-go/parquet-go: pure Go (no
// cgo, so every build of copycat has it), maintained, with typed readers
// and writers generated from the row structs below, zstd compression and
// key-value metadata. Apache Arrow's Go module does the same through
// Arrow's columnar arrays, which copycat does not otherwise need, with a
// larger dependency tree.
//
// # Schema, version 3
//
// An export is a folder holding four files. Every file carries the
// key-value metadata copycat.schema_version ("3"), copycat.table (its
// table name) and copycat.salt_id (SaltID of the index's salt: patient-ID
// digests compare only between indexes whose ids are equal). Import
// refuses another version, and a file whose columns differ in any way.
// Rows are sorted by dataset name, then path (bytewise), then frame.
//
// datasets.parquet, one row per dataset:
//
//	dataset          string   dataset name
//	source           string   folder or archive it was scanned from
//	files, images,   int64    counts when its last scan finished
//	failures
//	scan_started_ns  int64    Unix nanoseconds; 0 never
//	last_scan_ns     int64    Unix nanoseconds; 0 never
//	complete         bool     false when its last scan did not finish
//	documents_recorded bool   the scan recorded its documentation (false
//	                          for an index from before it did)
//
// files.parquet, one row per file, read or not:
//
//	dataset, path    string   path inside the dataset ("a.zip!/x/1.dcm")
//	size             int64    bytes
//	mtime_ns         int64    modification time, Unix nanoseconds
//	sha256           fixed 32 digest of the file's bytes (zeros: never read)
//	format           string   "dicom", "png", "jpeg", ...
//	frames           int64    frames the file holds
//	failure          string   why it could not be indexed; empty if it was
//
// images.parquet, one row per image (one frame of a file):
//
//	dataset, path    string
//	frame            int64    0-based
//	format           string
//	width, height    int64    pixels
//	bits             int32    bits per sample
//	photometric      string   DICOM photometric interpretation, or the
//	                          decoder's colour model
//	lossy            bool
//	jpeg_quality     int32    estimated libjpeg quality; 0 if not JPEG-coded
//	file_size        int64
//	file_sha256,     fixed 32 digests of the file and of the frame's
//	pixel_sha256              normalised pixels
//	transfer_syntax, string   DICOM only; empty otherwise
//	sop_instance_uid, series_instance_uid, study_instance_uid, modality
//	patient_id_digest string  salted digest of the patient ID; never the ID
//	fingerprint      group    the frame as rendered (for DICOM, through
//	                          its stored window):
//	  phash, dhash,  uint64   64-bit hashes (package hash)
//	  ahash
//	  pdq            fixed 32 256-bit PDQ hash
//	  pdq_quality    int32    0-100
//	  pdq_zeros      int32    DCT coefficients rounded to zero (0-256)
//	  dihedral       list<uint64> the pHash under the 8 rotations and
//	                          mirrors: identity, rot90, rot180, rot270,
//	                          fliph, flipv, transpose, transverse
//	  thumb          fixed 1024 32x32 grey thumbnail, row-major
//	minmax           optional group, as fingerprint: the min-max rendering
//	                          of a DICOM frame whose stored window clips;
//	                          null otherwise
//	volume           optional group: the NIfTI volume a slice was cut from
//	  dims           list<int64> voxels along x, y, z, and volumes (t)
//	  pixel_size     list<double> x, y, z, usually mm
//	  datatype       string   "int16", "float32", ...
//	  qform_code,    int32    NIfTI orientation codes
//	  sform_code
//	  slice, t       int64    the slice's index along z, and its volume
//	  plane          string   "axial", "coronal", "sagittal"; empty unknown
//	  windows        list<group> what each window of slice-dump scripts maps
//	                          to black and white in the slice, the window of
//	                          the fingerprint's rendering first (version 3):
//	    name         string   "percentile 0.5-99.5", "min-max per slice"...
//	    low, high    float    in the volume's values
//	preview          bytes    the JPEG preview the HTML report shows (at
//	                          most 96 px a side); empty before previews
//
// documents.parquet, one row per documentation file of a dataset (licence,
// README, dataset card, Kaggle metadata), as the scan kept it in the index:
//
//	dataset, path    string
//	size             int64    bytes of the whole file
//	data             bytes    its first MiB (index.MaxDocumentBytes)
//
// Import merges documents: the export's are written, the ones the index
// already holds for the dataset stay (a shard's export has only its
// shard's documents).
//
// Pairs computed outside an index (the Beam pipeline's pairs step) come
// back in the pairs table, versioned apart (PairsSchemaVersion, see
// pairs.go): ImportPairs loads them into an index holding the images they
// were computed on, ExportPairs writes an index's own, and WriteRecords
// and ReadImages write and read exports without an index (the Beam
// workers' side).
//
// Image IDs are not exported: they are local to an index, and Import
// allocates new ones. Version 1 (three tables, without documents, volume
// and preview) is refused: it was never released. Version 2 (without the
// volume's windows) is refused too: export again with this copycat.
package interchange
