package dicom

// dicomCodecKind says how the pixel data of a transfer syntax is stored.
type dicomCodecKind int

const (
	dcmNative      dicomCodecKind = iota // uncompressed, defined-length Pixel Data
	dcmEncapNative                       // uncompressed frames in fragments (1.2.840.10008.1.2.1.98)
	dcmJPEG                              // JPEG processes 1, 2/4 and 14: dispatched on the SOF marker
	dcmJPEGLS                            // JPEG-LS lossless and near-lossless
	dcmJPEG2000                          // JPEG 2000 and HTJ2K codestreams
	dcmRLE                               // DICOM RLE (PS3.5 Annex G)
	dcmNoCodec                           // a known transfer syntax copycat does not decode (video, JPIP, JPEG XL)
)

// dicomTS describes one transfer syntax.
type dicomTS struct {
	UID       string
	Name      string // the name PS3.6 gives it, used in decodeerr.UnsupportedError reasons
	Kind      dicomCodecKind
	Lossy     bool // always lossy; syntaxes that may be either rely on (0028,2110)
	Implicit  bool // implicit VR data set
	BigEndian bool
	Deflated  bool
	Unknown   bool // a UID not in PS3.6: its pixel data cannot be trusted to be native
}

// dicomTransferSyntaxes lists the transfer syntaxes of PS3.6 Table A-1 that
// a dataset is likely to hold. Everything but the first three and deflate
// encodes its data set as explicit VR little endian.
var dicomTransferSyntaxes = []dicomTS{
	{UID: "1.2.840.10008.1.2", Name: "Implicit VR Little Endian", Kind: dcmNative, Implicit: true},
	{UID: "1.2.840.10008.1.2.1", Name: "Explicit VR Little Endian", Kind: dcmNative},
	{UID: "1.2.840.10008.1.2.1.98", Name: "Encapsulated Uncompressed Explicit VR Little Endian", Kind: dcmEncapNative},
	{UID: "1.2.840.10008.1.2.1.99", Name: "Deflated Explicit VR Little Endian", Kind: dcmNative, Deflated: true},
	{UID: "1.2.840.10008.1.2.2", Name: "Explicit VR Big Endian", Kind: dcmNative, BigEndian: true},
	{UID: "1.2.840.10008.1.2.4.50", Name: "JPEG Baseline (Process 1)", Kind: dcmJPEG, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.51", Name: "JPEG Extended (Process 2 & 4)", Kind: dcmJPEG, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.57", Name: "JPEG Lossless, Non-Hierarchical (Process 14)", Kind: dcmJPEG},
	{UID: "1.2.840.10008.1.2.4.70", Name: "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])", Kind: dcmJPEG},
	{UID: "1.2.840.10008.1.2.4.80", Name: "JPEG-LS Lossless Image Compression", Kind: dcmJPEGLS},
	{UID: "1.2.840.10008.1.2.4.81", Name: "JPEG-LS Lossy (Near-Lossless) Image Compression", Kind: dcmJPEGLS, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.90", Name: "JPEG 2000 Image Compression (Lossless Only)", Kind: dcmJPEG2000},
	{UID: "1.2.840.10008.1.2.4.91", Name: "JPEG 2000 Image Compression", Kind: dcmJPEG2000},
	{UID: "1.2.840.10008.1.2.4.92", Name: "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.93", Name: "JPEG 2000 Part 2 Multi-component Image Compression", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.94", Name: "JPIP Referenced", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.95", Name: "JPIP Referenced Deflate", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.100", Name: "MPEG2 Main Profile / Main Level", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.101", Name: "MPEG2 Main Profile / High Level", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.102", Name: "MPEG-4 AVC/H.264 High Profile / Level 4.1", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.103", Name: "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.104", Name: "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.105", Name: "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.106", Name: "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.107", Name: "HEVC/H.265 Main Profile / Level 5.1", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.108", Name: "HEVC/H.265 Main 10 Profile / Level 5.1", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.110", Name: "JPEG XL Lossless", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.111", Name: "JPEG XL JPEG Recompression", Kind: dcmNoCodec, Lossy: true},
	{UID: "1.2.840.10008.1.2.4.112", Name: "JPEG XL", Kind: dcmNoCodec},
	{UID: "1.2.840.10008.1.2.4.201", Name: "High-Throughput JPEG 2000 Image Compression (Lossless Only)", Kind: dcmJPEG2000},
	{UID: "1.2.840.10008.1.2.4.202", Name: "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)", Kind: dcmJPEG2000},
	{UID: "1.2.840.10008.1.2.4.203", Name: "High-Throughput JPEG 2000 Image Compression", Kind: dcmJPEG2000},
	{UID: "1.2.840.10008.1.2.5", Name: "RLE Lossless", Kind: dcmRLE},
}

// The three data set encodings every other transfer syntax maps onto.
const (
	dicomUIDImplicitLE = "1.2.840.10008.1.2"
	dicomUIDExplicitLE = "1.2.840.10008.1.2.1"
	dicomUIDExplicitBE = "1.2.840.10008.1.2.2"
)

// lookupDICOMTS returns the transfer syntax with the given UID. An unknown
// UID gets an entry that parses as explicit VR little endian (as PS3.5 10.1
// requires of every syntax not listed above), so its attributes are read,
// and has no codec: whatever its pixel data holds, decoding it as native
// samples would be a guess (GDCM refuses such files; DCMTK reads them as
// native).
func lookupDICOMTS(uid string) dicomTS {
	for _, ts := range dicomTransferSyntaxes {
		if ts.UID == uid {
			return ts
		}
	}
	return dicomTS{UID: uid, Name: "unknown", Kind: dcmNoCodec, Unknown: true}
}

// unsupportedTS is the decodeerr.UnsupportedError for a transfer syntax this build
// cannot decode.
func (ts dicomTS) unsupported() error {
	return unsupportedf("unsupported transfer syntax %s (%s)", ts.Name, ts.UID)
}
