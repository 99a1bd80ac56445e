package dicom

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	dicomlib "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// How a DICOM file is read (see parseDICOMHeader):
//
//  1. The 128-byte preamble, "DICM" and the file meta group are read here,
//     or skipped when absent, to learn the transfer syntax; a missing one is
//     inferred from the first data element. Deflated data sets are inflated
//     here, under a size cap.
//  2. scanDICOM walks the whole data set structure up to Pixel Data and
//     checks every length against the bytes that remain. The dicom library
//     allocates a value's declared length before it reads it, so a 100-byte
//     hostile file could otherwise ask for 4 GB; the scan mirrors the
//     library's reading rules so that every length the library will see has
//     been bounded first. The scan also finds the top-level Pixel Data and
//     its fragments (the library drops the Basic Offset Table).
//  3. The library parses the elements before group 7FE0 from a synthetic
//     preamble and meta group naming the data set's plain encoding, so that
//     preamble-less, deflated and unknown-syntax files all parse the same way
//     and the library never sees the pixels.

// dicomMaxDepth bounds sequence nesting. Real files nest a handful of levels;
// the bound keeps a hostile file from recursing the scan (and the library)
// millions of levels deep.
const dicomMaxDepth = 64

// dicomMaxNumericLen bounds numeric (US, SS, UL, SL, FL, FD, AT) values
// outside Pixel Data. The library holds each number in 8 bytes, so a value
// expands up to four times in memory; real ones (LUT data at most) stay far
// below this.
const dicomMaxNumericLen = 16 << 20

// dicomUndefined is the undefined length, FFFFFFFFH.
const dicomUndefined = 0xFFFFFFFF

// Tags the scan and the pixel path need beyond the library's dictionary names.
var (
	tagExtendedOffsetTable  = tag.Tag{Group: 0x7FE0, Element: 0x0001}
	tagFloatPixelData       = tag.Tag{Group: 0x7FE0, Element: 0x0008}
	tagDoubleFloatPixelData = tag.Tag{Group: 0x7FE0, Element: 0x0009}
)

// dicomEncoding is how a data set's elements are encoded.
type dicomEncoding struct {
	bo       binary.ByteOrder
	implicit bool
}

// uid returns the transfer syntax that names this plain encoding.
func (e dicomEncoding) uid() string {
	switch {
	case e.implicit:
		return dicomUIDImplicitLE
	case e.bo == binary.BigEndian:
		return dicomUIDExplicitBE
	default:
		return dicomUIDExplicitLE
	}
}

// dicomPixelData is the top-level Pixel Data element, located by the scan.
type dicomPixelData struct {
	VR           string // explicit VR, or "" for implicit
	Encapsulated bool
	Value        []byte   // native pixel data
	BOT          []uint32 // Basic Offset Table, possibly empty
	Fragments    [][]byte // encapsulated fragments after the offset table
	FragOffsets  []uint32 // each fragment's item offset from the first fragment, as BOT entries count
	EOT          []uint64 // Extended Offset Table, when present
	Float        bool     // Float or Double Float Pixel Data, which copycat does not render
}

// dicomHeader is a parsed file: its transfer syntax, the data set elements
// before group 7FE0, and the pixel data located by the scan.
type dicomHeader struct {
	TS    dicomTS
	Enc   dicomEncoding
	Attrs dicomAttrs
	Pixel *dicomPixelData // nil when the file has no Pixel Data
}

// errDICOMTruncated is the cause when an element runs past the end of its
// container.
var errDICOMTruncated = errors.New("element runs past the end of the data")

// parseDICOMHeader reads data's preamble, meta group and data set. budget
// caps the inflated size of deflated files.
func parseDICOMHeader(data []byte, budget int64) (*dicomHeader, error) {
	body, tsUID, err := splitDICOMMeta(data)
	if err != nil {
		return nil, err
	}
	h := &dicomHeader{}
	if tsUID == "" {
		enc, ok := inferDICOMEncoding(body)
		if !ok {
			return nil, corruptf("no file meta information and no recognisable data element")
		}
		tsUID = enc.uid()
	}
	h.TS = lookupDICOMTS(tsUID)
	switch {
	case h.TS.Implicit:
		h.Enc = dicomEncoding{bo: binary.LittleEndian, implicit: true}
	case h.TS.BigEndian:
		h.Enc = dicomEncoding{bo: binary.BigEndian}
	default:
		h.Enc = dicomEncoding{bo: binary.LittleEndian}
	}
	if h.TS.Deflated {
		if body, err = inflateDICOM(body, budget); err != nil {
			return nil, err
		}
	} else if !plausibleDICOMElement(body, h.Enc) {
		// Some writers label an implicit VR data set as explicit (or the
		// reverse); readers such as DCMTK detect it, and so do we.
		if enc, ok := inferDICOMEncoding(body); ok {
			h.Enc = enc
		}
	}

	cut, pix, err := scanDICOM(body, h.Enc)
	if err != nil {
		return nil, corrupt(err)
	}
	h.Pixel = pix

	hdr := syntheticDICOMMeta(h.Enc.uid())
	in := io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(body[:cut]))
	ds, err := dicomlib.Parse(in, int64(len(hdr)+cut), nil,
		dicomlib.SkipPixelData(), dicomlib.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return nil, corrupt(dicomLibraryError(err))
	}
	h.Attrs = dicomAttrs(ds.Elements)
	return h, nil
}

// dicomLibraryError keeps the library's message but drops any element value
// it quotes ("got: <element>"), which could hold patient data.
func dicomLibraryError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "got:"); i >= 0 {
		msg = strings.TrimSpace(msg[:i]) + " (value elided)"
	}
	return fmt.Errorf("parse data set: %s", msg)
}

// splitDICOMMeta skips the preamble and file meta group (group 0002, always
// explicit VR little endian) and returns the data set bytes and the transfer
// syntax UID ("" when the meta group is missing or does not name one).
func splitDICOMMeta(data []byte) (body []byte, tsUID string, err error) {
	p := 0
	if len(data) >= 132 && string(data[128:132]) == "DICM" {
		p = 132
	}
	for len(data)-p >= 8 && binary.LittleEndian.Uint16(data[p:]) == 0x0002 {
		elem := binary.LittleEndian.Uint16(data[p+2:])
		var vl, hl int
		switch vr := string(data[p+4 : p+6]); {
		case !isDICOMVR(vr):
			// A meta group written in implicit VR, seen in the wild.
			vl, hl = int(binary.LittleEndian.Uint32(data[p+4:])), 8
		case isLongDICOMVR(vr):
			if len(data)-p < 12 {
				return nil, "", corruptf("file meta information: %w", errDICOMTruncated)
			}
			vl, hl = int(binary.LittleEndian.Uint32(data[p+8:])), 12
		default:
			vl, hl = int(binary.LittleEndian.Uint16(data[p+6:])), 8
		}
		if vl < 0 || uint32(vl) == dicomUndefined || vl > len(data)-p-hl {
			return nil, "", corruptf("file meta information: %w", errDICOMTruncated)
		}
		if elem == 0x0010 {
			tsUID = strings.TrimRight(string(data[p+hl:p+hl+vl]), " \x00")
		}
		p += hl + vl
	}
	return data[p:], tsUID, nil
}

// isDICOMVR reports whether s is one of the value representations of PS3.5.
func isDICOMVR(s string) bool {
	switch s {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
		"OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
		"UT", "UV":
		return true
	}
	return false
}

// isLongDICOMVR reports whether an explicit VR has two reserved bytes and a
// 32-bit length (PS3.5 Table 7.1-1).
func isLongDICOMVR(s string) bool {
	switch s {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// inferDICOMEncoding guesses the encoding of a data set without a transfer
// syntax from its first element, trying the encodings in the order DCMTK does.
func inferDICOMEncoding(body []byte) (dicomEncoding, bool) {
	for _, enc := range []dicomEncoding{
		{bo: binary.LittleEndian},
		{bo: binary.LittleEndian, implicit: true},
		{bo: binary.BigEndian},
	} {
		if plausibleDICOMElement(body, enc) {
			return enc, true
		}
	}
	return dicomEncoding{}, false
}

// plausibleDICOMElement reports whether body starts with an element that
// reads well in enc: a low even group, a real VR when explicit, and a length
// that fits.
func plausibleDICOMElement(body []byte, enc dicomEncoding) bool {
	if len(body) < 8 {
		return false
	}
	group := enc.bo.Uint16(body)
	if group == 0 || group > 0x7FE0 || group%2 != 0 {
		return false
	}
	if enc.implicit {
		vl := binary.LittleEndian.Uint32(body[4:])
		return vl == dicomUndefined || int64(vl) <= int64(len(body)-8)
	}
	vr := string(body[4:6])
	if !isDICOMVR(vr) {
		return false
	}
	if isLongDICOMVR(vr) {
		if len(body) < 12 {
			return false
		}
		vl := enc.bo.Uint32(body[8:])
		return vl == dicomUndefined || int64(vl) <= int64(len(body)-12)
	}
	return int(enc.bo.Uint16(body[6:])) <= len(body)-8
}

// inflateDICOM inflates a deflated data set (raw deflate per PS3.5 A.5; a
// zlib wrapper, written by some old toolkits, is accepted too). The output is
// capped so a small file cannot expand into gigabytes: 4 bytes per pixel of
// the pixel budget plus 16 MB for the rest of the data set.
func inflateDICOM(body []byte, budget int64) ([]byte, error) {
	limit := 4*budget + 16<<20
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(body)), limit+1))
	if err != nil && len(body) >= 2 && (uint16(body[0])<<8|uint16(body[1]))%31 == 0 {
		if zr, zerr := zlib.NewReader(bytes.NewReader(body)); zerr == nil {
			out, err = io.ReadAll(io.LimitReader(zr, limit+1))
		}
	}
	if err != nil {
		return nil, corruptf("inflate data set: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, &decodeerr.TooLargeError{
			What:  fmt.Sprintf("deflated data set inflating past %d bytes", limit),
			Limit: fmt.Sprintf("inflate cap of %d bytes (4 bytes per pixel of the pixel budget + 16 MB)", limit),
		}
	}
	return out, nil
}

// syntheticDICOMMeta returns a preamble, "DICM" and a minimal meta group
// naming the plain encoding tsUID, for the library to read ahead of the data
// set.
func syntheticDICOMMeta(tsUID string) []byte {
	uid := []byte(tsUID)
	if len(uid)%2 == 1 {
		uid = append(uid, 0)
	}
	b := make([]byte, 128, 128+4+12+8+len(uid))
	b = append(b, "DICM"...)
	b = append(b, 0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(8+len(uid)))
	b = append(b, 0x02, 0x00, 0x10, 0x00, 'U', 'I')
	b = binary.LittleEndian.AppendUint16(b, uint16(len(uid)))
	return append(b, uid...)
}

// dicomScanner walks a data set's element structure without reading values.
type dicomScanner struct {
	b   []byte
	enc dicomEncoding
}

// scanDICOM walks body's top-level elements and returns the offset of the
// first element of group 7FE0 or above (the end of what the library parses)
// and the top-level Pixel Data, or nil when there is none. Elements after
// Pixel Data are not looked at.
func scanDICOM(body []byte, enc dicomEncoding) (cut int, pix *dicomPixelData, err error) {
	s := dicomScanner{b: body, enc: enc}
	p := 0
	for p < len(body) {
		if len(body)-p < 4 {
			return 0, nil, fmt.Errorf("at offset %d: %w", p, errDICOMTruncated)
		}
		group := enc.bo.Uint16(body[p:])
		if group >= 0x7FE0 && group != 0xFFFE {
			break
		}
		q, _, err := s.element(p, len(body), 0)
		if err != nil {
			return 0, nil, err
		}
		p = q
	}
	cut = p
	pix, err = s.pixelGroup(p)
	return cut, pix, err
}

// element reads the element at p, which must end by end, the way the dicom
// library's reader.readElement would, and returns where the next one starts.
// Where the library would fail, or allocate a length past end, it returns an
// error; it is never more lenient than the library.
func (s *dicomScanner) element(p, end, depth int) (int, tag.Tag, error) {
	if depth > dicomMaxDepth {
		return 0, tag.Tag{}, fmt.Errorf("sequences nested more than %d deep", dicomMaxDepth)
	}
	b, bo := s.b, s.enc.bo
	if end-p < 4 {
		return 0, tag.Tag{}, fmt.Errorf("at offset %d: %w", p, errDICOMTruncated)
	}
	t := tag.Tag{Group: bo.Uint16(b[p:]), Element: bo.Uint16(b[p+2:])}
	p += 4
	implicit := s.enc.implicit || t == tag.Item
	var vr string
	if implicit {
		vr = implicitDICOMVR(t)
	} else {
		if end-p < 2 {
			return 0, t, fmt.Errorf("%v: %w", t, errDICOMTruncated)
		}
		vr = string(b[p : p+2])
		p += 2
	}
	var vl uint32
	switch {
	case implicit:
		if end-p < 4 {
			return 0, t, fmt.Errorf("%v: %w", t, errDICOMTruncated)
		}
		vl = bo.Uint32(b[p:])
		p += 4
	case libraryLongVR(vr):
		if end-p < 6 {
			return 0, t, fmt.Errorf("%v: %w", t, errDICOMTruncated)
		}
		vl = bo.Uint32(b[p+2:])
		p += 6
	default:
		if end-p < 2 {
			return 0, t, fmt.Errorf("%v: %w", t, errDICOMTruncated)
		}
		vl = uint32(bo.Uint16(b[p:]))
		if vl == 0xFFFF { // the library reads this as undefined length
			vl = dicomUndefined
		}
		p += 2
	}
	undefined := vl == dicomUndefined
	if !undefined && int64(vl) > int64(end-p) {
		return 0, t, fmt.Errorf("%v length %d at offset %d: %w", t, vl, p, errDICOMTruncated)
	}
	kind := tag.GetVRKind(t, vr)
	switch {
	case kind == tag.VRItem:
		if undefined {
			for {
				q, ct, err := s.element(p, end, depth+1)
				if err != nil {
					return 0, t, err
				}
				p = q
				if ct == tag.ItemDelimitationItem {
					return p, t, nil
				}
			}
		}
		return s.children(p, p+int(vl), depth, false, t)
	case kind == tag.VRSequence || kind == tag.VRUnknown && undefined:
		if undefined {
			for {
				q, ct, err := s.element(p, end, depth+1)
				if err != nil {
					return 0, t, err
				}
				p = q
				if ct == tag.SequenceDelimitationItem {
					return p, t, nil
				}
				if ct != tag.Item {
					return 0, t, fmt.Errorf("sequence %v holds %v, not an item", t, ct)
				}
			}
		}
		return s.children(p, p+int(vl), depth, true, t)
	case kind == tag.VRPixelData || kind == tag.VRBytes && undefined:
		if undefined {
			q, _, err := s.items(p, end, true)
			return q, t, err
		}
		return p + int(vl), t, nil
	case undefined:
		return 0, t, fmt.Errorf("%v (VR %q) has undefined length", t, vr)
	case kind == tag.VRBytes && vr == "OW" && vl%2 != 0:
		return 0, t, fmt.Errorf("%v: OW value of odd length %d", t, vl)
	case vl > dicomMaxNumericLen && (kind == tag.VRUInt16List || kind == tag.VRInt16List ||
		kind == tag.VRUInt32List || kind == tag.VRInt32List || kind == tag.VRFloat32List ||
		kind == tag.VRFloat64List || kind == tag.VRTagList):
		return 0, t, fmt.Errorf("%v: numeric value of %d bytes", t, vl)
	}
	return p + int(vl), t, nil
}

// children walks the elements inside a defined-length item (or sequence, if
// seq, when each must be an item) that spans [p, end).
func (s *dicomScanner) children(p, end, depth int, seq bool, parent tag.Tag) (int, tag.Tag, error) {
	for p < end {
		q, ct, err := s.element(p, end, depth+1)
		if err != nil {
			return 0, parent, err
		}
		if seq && ct != tag.Item {
			return 0, parent, fmt.Errorf("sequence %v holds %v, not an item", parent, ct)
		}
		p = q
	}
	return end, parent, nil
}

// items walks an encapsulated value (items of defined length, always in
// implicit VR, ended by a sequence delimiter) from p and returns the offset
// after the delimiter and the items' values. nested values are read by the
// library afterwards, which logs through the standard logger on a delimiter
// with a length, so those are refused.
func (s *dicomScanner) items(p, end int, nested bool) (int, [][]byte, error) {
	var vals [][]byte
	b, bo := s.b, s.enc.bo
	for {
		if end-p < 8 {
			return 0, nil, fmt.Errorf("encapsulated data without sequence delimiter: %w", errDICOMTruncated)
		}
		t := tag.Tag{Group: bo.Uint16(b[p:]), Element: bo.Uint16(b[p+2:])}
		vl := bo.Uint32(b[p+4:])
		p += 8
		switch {
		case t == tag.SequenceDelimitationItem && nested && vl != 0:
			return 0, nil, fmt.Errorf("sequence delimiter with length %d", vl)
		case t == tag.SequenceDelimitationItem:
			return p, vals, nil
		case t != tag.Item:
			return 0, nil, fmt.Errorf("encapsulated data holds %v, not an item", t)
		case vl == dicomUndefined || int64(vl) > int64(end-p):
			return 0, nil, fmt.Errorf("fragment length %d at offset %d: %w", int64(vl), p, errDICOMTruncated)
		}
		vals = append(vals, b[p:p+int(vl):p+int(vl)])
		p += int(vl)
	}
}

// pixelGroup reads the top-level elements from p (the first of group 7FE0
// or above) up to and including Pixel Data. The library never reads these,
// so they are read by the standard's rules rather than the library's.
func (s *dicomScanner) pixelGroup(p int) (*dicomPixelData, error) {
	b, bo := s.b, s.enc.bo
	var pix dicomPixelData
	for p < len(b) {
		if len(b)-p < 8 {
			return nil, fmt.Errorf("at offset %d: %w", p, errDICOMTruncated)
		}
		start := p
		t := tag.Tag{Group: bo.Uint16(b[p:]), Element: bo.Uint16(b[p+2:])}
		var vr string
		var vl uint32
		switch {
		case s.enc.implicit:
			vl = bo.Uint32(b[p+4:])
			p += 8
		default:
			vr = string(b[p+4 : p+6])
			if isLongDICOMVR(vr) {
				if len(b)-p < 12 {
					return nil, fmt.Errorf("%v: %w", t, errDICOMTruncated)
				}
				vl = bo.Uint32(b[p+8:])
				p += 12
			} else {
				vl = uint32(bo.Uint16(b[p+6:]))
				p += 8
			}
		}
		if t == tag.PixelData || t == tagFloatPixelData || t == tagDoubleFloatPixelData {
			pix.VR = vr
			pix.Float = t != tag.PixelData
			if vl == dicomUndefined {
				_, vals, err := s.items(p, len(b), false)
				if err != nil {
					return nil, err
				}
				pix.Encapsulated = true
				if len(vals) > 0 {
					bot := vals[0]
					for i := 0; i+4 <= len(bot); i += 4 {
						pix.BOT = append(pix.BOT, binary.LittleEndian.Uint32(bot[i:]))
					}
					off := uint32(0)
					for _, f := range vals[1:] {
						pix.Fragments = append(pix.Fragments, f)
						pix.FragOffsets = append(pix.FragOffsets, off)
						off += 8 + uint32(len(f))
					}
				}
				return &pix, nil
			}
			if int64(vl) > int64(len(b)-p) {
				return nil, fmt.Errorf("pixel data length %d, %d bytes left: %w", vl, len(b)-p, errDICOMTruncated)
			}
			pix.Value = b[p : p+int(vl)]
			return &pix, nil
		}
		if vl == dicomUndefined {
			// An undefined-length element here can only be a sequence.
			q, _, err := s.element(start, len(b), 0)
			if err != nil {
				return nil, err
			}
			p = q
			continue
		}
		if int64(vl) > int64(len(b)-p) {
			return nil, fmt.Errorf("%v length %d: %w", t, vl, errDICOMTruncated)
		}
		switch t {
		case tagExtendedOffsetTable:
			pix.EOT = readDICOMUint64s(b[p:p+int(vl)], bo)
		}
		p += int(vl)
	}
	return nil, nil
}

func readDICOMUint64s(b []byte, bo binary.ByteOrder) []uint64 {
	out := make([]uint64, 0, len(b)/8)
	for i := 0; i+8 <= len(b); i += 8 {
		out = append(out, bo.Uint64(b[i:]))
	}
	return out
}

// libraryLongVR is the dicom library's list of explicit VRs with a 32-bit
// length (reader.readVL). It lacks OV, SV and UV; the scan must read lengths
// exactly as the library does, so it uses this list for what the library
// parses.
func libraryLongVR(vr string) bool {
	switch vr {
	case "NA", "OB", "OD", "OF", "OL", "OW", "SQ", "UN", "UC", "UR", "UT":
		return true
	}
	return false
}

// implicitDICOMVR is the VR the library assigns an element in implicit VR
// (reader.readVR).
func implicitDICOMVR(t tag.Tag) string {
	info, err := tag.Find(t)
	if err != nil {
		return "UN"
	}
	if t == tag.PixelData || t == tag.OverlayData {
		return "OW"
	}
	return info.VRs[0]
}
