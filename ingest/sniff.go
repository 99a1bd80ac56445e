package ingest

import (
	"bytes"
	"unicode/utf8"

	"github.com/copycat-dev/copycat/ingest/internal/dicom"
)

// Kind is what a file's content says it is, before any decoding.
type Kind int

// The kinds Sniff tells apart.
const (
	KindUnknown    Kind = iota // binary content that matches nothing we know
	KindImage                  // DICOM, NIfTI (also gzip'd), PNG or JPEG: decoded
	KindArchive                // zip, tar or gzip'd tar: walked as part of the dataset
	KindDocument               // text (README, CSV, JSON, licences): skipped, kept for the licence audit
	KindData                   // known non-image binary (NumPy, HDF5, PDF, ...): skipped
	KindEmpty                  // zero bytes
	KindOtherImage             // an image format copycat does not decode (TIFF, GIF, ...)
)

// SniffLen is how many leading bytes Sniff wants to see.
const SniffLen = 1024

// Sniff classifies content by its leading bytes (up to SniffLen), never by
// file name: datasets rename files freely, and many DICOM files have no
// extension at all. For images and other images it also returns the format
// name.
func Sniff(head []byte) (Kind, string) {
	switch {
	case len(head) == 0:
		return KindEmpty, ""
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return KindImage, string(FormatPNG)
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return KindImage, string(FormatJPEG)
	case dicom.Sniff(head):
		return KindImage, string(FormatDICOM)
	}
	switch single, pair := sniffNIfTI(head); {
	case single:
		return KindImage, string(FormatNIfTI)
	case pair:
		return KindOtherImage, "NIfTI .hdr/.img pair"
	}
	if k, name := sniffContainer(head); k != KindUnknown {
		return k, name
	}
	for _, m := range otherImageMagic {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return KindOtherImage, m.name
		}
	}
	for _, m := range dataMagic {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return KindData, m.name
		}
	}
	if looksLikeText(head) {
		return KindDocument, "text"
	}
	return KindUnknown, ""
}

// sniffContainer recognises the archive formats a dataset may hold.
func sniffContainer(head []byte) (Kind, string) {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return KindArchive, "zip"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return KindArchive, "gzip"
	case len(head) >= 263 && string(head[257:262]) == "ustar":
		return KindArchive, "tar"
	}
	return KindUnknown, ""
}

type magic struct{ magic, name string }

// otherImageMagic lists image formats that users will expect to hear about
// rather than have silently skipped.
var otherImageMagic = []magic{
	{"II*\x00", "TIFF"},
	{"MM\x00*", "TIFF"},
	{"GIF87a", "GIF"},
	{"GIF89a", "GIF"},
	{"BM", "BMP"},
	{"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"},
	{"\xff\x4f\xff\x51", "JPEG 2000 codestream"},
	{"\xff\x0a", "JPEG XL"},
	{"RIFF", "RIFF (WebP?)"},
	{"\x00\x00\x00\x1cftypavif", "AVIF"},
	{"\x00\x00\x01\x00", "ICO"},
}

// dataMagic lists binary formats that datasets ship beside images and that
// are not images: skipped like documents.
var dataMagic = []magic{
	{"\x93NUMPY", "NumPy"},
	{"\x89HDF\r\n\x1a\n", "HDF5"},
	{"%PDF", "PDF"},
	{"PAR1", "Parquet"},
	{"SQLite format 3\x00", "SQLite"},
	{"\x80\x02", "pickle"},
	{"\x80\x03", "pickle"},
	{"\x80\x04", "pickle"},
	{"\x80\x05", "pickle"},
	{"7z\xbc\xaf\x27\x1c", "7-Zip"},
	{"Rar!", "RAR"},
	{"BZh", "bzip2"},
	{"\xfd7zXZ\x00", "xz"},
	{"\x28\xb5\x2f\xfd", "zstd"},
}

// looksLikeText reports whether head is plausibly text: valid UTF-8 (allowing
// a cut rune at the end), no NUL bytes, and few control characters.
func looksLikeText(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	ctl := 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(head)-i < utf8.UTFMax {
				break // a rune cut by the sniff window
			}
			return false
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\f' {
			ctl++
		}
		i += n
	}
	return ctl*50 <= len(head)
}
