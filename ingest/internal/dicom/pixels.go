package dicom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	"github.com/copycat-dev/copycat/ingest/internal/jpeghdr"
)

var (
	tagSharedFunctionalGroupsSequence   = tag.Tag{Group: 0x5200, Element: 0x9229}
	tagPerFrameFunctionalGroupsSequence = tag.Tag{Group: 0x5200, Element: 0x9230}
	tagLossyImageCompression            = tag.Tag{Group: 0x0028, Element: 0x2110}
)

// dicomImage is a file's image description plus the state of rendering it
// frame by frame (the current table, so frames that share parameters share
// it).
type dicomImage struct {
	h                              *dicomHeader
	rows, cols, frames, spp        int
	bitsAlloc, bitsStored, highBit int
	signed, planar                 bool
	xray                           bool // an XA or XRF image, whose Modality LUT is not for display
	photometric                    string
	shared                         dicomAttrs
	perFrame                       []dicomAttrs
	palette                        [3]*dicomLUT

	groups [][][]byte // encapsulated: each frame's fragments

	lut     []uint8 // the current table, indexed by masked stored value, valid where filled is set
	lutKey  dicomLUTKey
	lutFull bool   // lut is filled at every index
	seen    []bool // indices used by the current frame
	filled  []bool
}

// dicomLUTKey identifies the parameters a table was built from.
type dicomLUTKey struct {
	valid             bool
	slope, intercept  float64
	win               dicomWindow
	hasWin, hasVOILUT bool
	lo, hi            float64
}

// newDICOMImage reads the Image Pixel module and checks that it describes
// something copycat can render.
func newDICOMImage(h *dicomHeader) (*dicomImage, error) {
	a := h.Attrs
	d := &dicomImage{
		h:         h,
		rows:      a.int(tag.Rows, 0),
		cols:      a.int(tag.Columns, 0),
		spp:       a.int(tag.SamplesPerPixel, 1),
		bitsAlloc: a.int(tag.BitsAllocated, 0),
		signed:    a.int(tag.PixelRepresentation, 0) == 1,
		planar:    a.int(tag.PlanarConfiguration, 0) == 1,
		shared:    a.item(tagSharedFunctionalGroupsSequence),
		perFrame:  a.items(tagPerFrameFunctionalGroupsSequence),
	}
	switch a.str(tag.SOPClassUID) {
	case "1.2.840.10008.5.1.4.1.1.12.1", "1.2.840.10008.5.1.4.1.1.12.1.1", // XA, Enhanced XA
		"1.2.840.10008.5.1.4.1.1.12.2", "1.2.840.10008.5.1.4.1.1.12.2.1": // XRF, Enhanced XRF
		// Their Modality LUT maps LOG pixels back to linear for
		// measurement; viewers (DCMTK, Cornerstone) do not apply it for
		// display.
		d.xray = true
	}
	d.frames = 1
	if n, ok := a.num(tag.NumberOfFrames, 1); ok && n >= 1 && n <= math.MaxInt32 {
		d.frames = int(n)
	}
	d.photometric = strings.ToUpper(strings.TrimSpace(a.str(tag.PhotometricInterpretation)))
	if d.photometric == "" {
		d.photometric = "MONOCHROME2"
		if d.spp == 3 {
			d.photometric = "RGB"
		}
	}
	switch {
	case d.rows <= 0 || d.cols <= 0:
		return nil, corruptf("image is %dx%d", d.cols, d.rows)
	case d.spp != 1 && d.spp != 3:
		return nil, unsupportedf("unsupported DICOM samples per pixel %d", d.spp)
	}
	switch d.bitsAlloc {
	case 1, 8, 16, 32:
	default:
		return nil, unsupportedf("unsupported DICOM bits allocated %d", d.bitsAlloc)
	}
	if d.bitsAlloc == 32 && h.Pixel != nil && h.Pixel.Encapsulated {
		// No codec here yields more than 16 bits per sample.
		return nil, unsupportedf("unsupported DICOM compressed image with 32 bits allocated")
	}
	d.bitsStored = a.int(tag.BitsStored, d.bitsAlloc)
	if d.bitsStored < 1 || d.bitsStored > d.bitsAlloc {
		d.bitsStored = d.bitsAlloc
	}
	d.highBit = a.int(tag.HighBit, d.bitsStored-1)
	if d.highBit < d.bitsStored-1 || d.highBit >= d.bitsAlloc {
		d.highBit = d.bitsStored - 1
	}
	if d.spp == 1 {
		switch d.photometric {
		case "MONOCHROME1", "MONOCHROME2":
		case "PALETTE COLOR":
			if d.bitsStored > 16 {
				return nil, unsupportedf("unsupported DICOM palette image with %d bits stored", d.bitsStored)
			}
			if a.find(tag.SegmentedRedPaletteColorLookupTableData) != nil {
				return nil, unsupportedf("unsupported DICOM segmented palette colour lookup table")
			}
			descs := []tag.Tag{tag.RedPaletteColorLookupTableDescriptor, tag.GreenPaletteColorLookupTableDescriptor, tag.BluePaletteColorLookupTableDescriptor}
			datas := []tag.Tag{tag.RedPaletteColorLookupTableData, tag.GreenPaletteColorLookupTableData, tag.BluePaletteColorLookupTableData}
			for c := range 3 {
				if d.palette[c] = parseDICOMLUT(a, descs[c], datas[c], d.signed); d.palette[c] == nil {
					return nil, corruptf("palette colour image without a usable %s", []string{"red", "green", "blue"}[c]+" lookup table")
				}
			}
		default:
			// A one-sample image under a colour name: render it as grey,
			// which is what it holds.
			d.photometric = "MONOCHROME2"
		}
	} else {
		switch d.photometric {
		case "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT":
		default:
			return nil, unsupportedf("unsupported DICOM photometric interpretation %s", d.photometric)
		}
		if d.bitsAlloc == 1 || d.bitsAlloc == 32 {
			return nil, unsupportedf("unsupported DICOM colour image with %d bits allocated", d.bitsAlloc)
		}
	}
	return d, nil
}

// frameSamples is the pixel budget count: rows x columns x samples of one
// frame. Frames are decoded one at a time, so a frame is what memory holds;
// a 70-frame ultrasound clip is no larger to decode than one of its frames.
func (d *dicomImage) frameSamples() int64 {
	return int64(d.rows) * int64(d.cols) * int64(d.spp)
}

// nativeFrameBytes is the size of one uncompressed frame, or 0 for 1-bit
// data, whose frames need not start on a byte.
func (d *dicomImage) nativeFrameBytes() int {
	if d.bitsAlloc == 1 {
		return 0
	}
	n := d.rows * d.cols * d.spp * (d.bitsAlloc / 8)
	if d.photometric == "YBR_FULL_422" && d.bitsAlloc == 8 {
		n = d.rows * d.cols * 2 // two luma and one chroma pair per two pixels
	}
	return n
}

// prepare checks the pixel data against the image description and groups
// encapsulated fragments into frames.
func (d *dicomImage) prepare() error {
	pix := d.h.Pixel
	if !pix.Encapsulated {
		if d.h.TS.Kind != dcmNative {
			// A native Pixel Data under a compressed syntax: some writers
			// decompress without changing the UID. Read what is there.
			d.h.TS = dicomTS{UID: d.h.TS.UID, Name: d.h.TS.Name, Kind: dcmNative, Lossy: d.h.TS.Lossy}
		}
		need := int64(d.nativeFrameBytes()) * int64(d.frames)
		if d.bitsAlloc == 1 {
			need = (int64(d.rows)*int64(d.cols)*int64(d.frames) + 7) / 8
		}
		if d.photometric == "YBR_FULL_422" && int64(len(pix.Value)) >= need*3/2 {
			// Labelled 4:2:2 but stored full size (common after a
			// decompressor that did not relabel).
			d.photometric = "YBR_FULL"
			need = need * 3 / 2
		}
		if int64(len(pix.Value)) < need {
			return corruptf("pixel data holds %d bytes, %d frames of %dx%d need %d", len(pix.Value), d.frames, d.cols, d.rows, need)
		}
		return nil
	}
	if d.h.TS.Kind == dcmNative {
		return corruptf("encapsulated pixel data under %s", d.h.TS.Name)
	}
	g, err := groupDICOMFragments(pix, d.frames, d.h.TS.Kind)
	if err != nil {
		return corrupt(err)
	}
	d.groups = g
	return nil
}

// groupDICOMFragments assigns fragments to frames: by the Extended or Basic
// Offset Table when present and consistent, one fragment per frame when the
// counts match, else by the codestream start markers in each fragment.
func groupDICOMFragments(p *dicomPixelData, frames int, kind dicomCodecKind) ([][][]byte, error) {
	fr := p.Fragments
	if len(fr) == 0 {
		return nil, errors.New("encapsulated pixel data without fragments")
	}
	if frames == 1 {
		return [][][]byte{fr}, nil
	}
	if len(p.EOT) == frames {
		if g, ok := groupByOffsets(p, p.EOT); ok {
			return g, nil
		}
	}
	if len(p.BOT) == frames {
		offs := make([]uint64, frames)
		for i, o := range p.BOT {
			offs[i] = uint64(o)
		}
		if g, ok := groupByOffsets(p, offs); ok {
			return g, nil
		}
	}
	if len(fr) == frames {
		g := make([][][]byte, frames)
		for i, f := range fr {
			g[i] = [][]byte{f}
		}
		return g, nil
	}
	if len(fr) > frames && (kind == dcmJPEG || kind == dcmJPEGLS || kind == dcmJPEG2000) {
		var g [][][]byte
		for _, f := range fr {
			if len(g) == 0 || startsDICOMCodestream(f, kind) {
				g = append(g, nil)
			}
			g[len(g)-1] = append(g[len(g)-1], f)
		}
		if len(g) == frames {
			return g, nil
		}
	}
	return nil, fmt.Errorf("%d fragments cannot be split into %d frames", len(fr), frames)
}

// groupByOffsets groups fragments by an offset table whose entries must
// start at 0, increase, and each fall on a fragment's item.
func groupByOffsets(p *dicomPixelData, offs []uint64) ([][][]byte, bool) {
	g := make([][][]byte, len(offs))
	k := 0
	for i, o := range offs {
		if i == 0 && o != 0 || i > 0 && o <= offs[i-1] {
			return nil, false
		}
		for k < len(p.FragOffsets) && uint64(p.FragOffsets[k]) < o {
			k++
		}
		if k >= len(p.FragOffsets) || uint64(p.FragOffsets[k]) != o {
			return nil, false
		}
		end := len(p.Fragments)
		if i+1 < len(offs) {
			end = k
			for end < len(p.FragOffsets) && uint64(p.FragOffsets[end]) < offs[i+1] {
				end++
			}
		}
		g[i] = p.Fragments[k:end]
		if len(g[i]) == 0 {
			return nil, false
		}
	}
	return g, true
}

// startsDICOMCodestream reports whether a fragment begins a JPEG (SOI) or
// JPEG 2000 (SOC, or a JP2 signature box) codestream.
func startsDICOMCodestream(f []byte, kind dicomCodecKind) bool {
	if kind == dcmJPEG2000 {
		return bytes.HasPrefix(f, []byte{0xFF, 0x4F, 0xFF, 0x51}) ||
			bytes.HasPrefix(f, []byte("\x00\x00\x00\x0cjP  \r\n\x87\n"))
	}
	return bytes.HasPrefix(f, []byte{0xFF, 0xD8})
}

// frameData returns frame i's encapsulated bytes, joining its fragments.
func (d *dicomImage) frameData(i int) []byte {
	g := d.groups[i]
	if len(g) == 1 {
		return g[0]
	}
	return bytes.Join(g, nil)
}

// frame decodes and renders frame i; minMax is its min-max rendering for a
// monochrome frame whose VOI transform comes from the header (nil
// otherwise).
func (d *dicomImage) frame(i int) (img image.Image, minMax *image.Gray, err error) {
	raw, err := d.raw(i)
	if err != nil {
		return nil, nil, err
	}
	if raw.img != nil {
		return raw.img, nil, nil
	}
	if raw.rgb != nil {
		return d.renderColor(raw), nil, nil
	}
	if d.photometric == "PALETTE COLOR" {
		return d.renderPalette(&raw.mono), nil, nil
	}
	g, mm := d.renderMono(i, &raw.mono)
	return g, mm, nil
}

// dicomRaw is a decoded frame before rendering: monochrome stored values,
// or 8-bit interleaved colour triples (RGB, or YCbCr when ybr is set), or
// an image already final.
type dicomRaw struct {
	mono dicomMonoFrame
	rgb  []byte
	ybr  bool
	img  image.Image
}

// monoMask is the index mask for bitsStored bits.
func (d *dicomImage) monoMask() uint32 {
	return uint32(uint64(1)<<d.bitsStored - 1)
}

// raw decodes frame i into stored values.
func (d *dicomImage) raw(i int) (*dicomRaw, error) {
	if d.h.TS.Kind == dcmNative {
		return d.rawNative(i)
	}
	data := d.frameData(i)
	switch d.h.TS.Kind {
	case dcmEncapNative:
		if len(data) < d.nativeFrameBytes() {
			return nil, corruptf("frame %d holds %d bytes, want %d", i, len(data), d.nativeFrameBytes())
		}
		return d.nativeBytes(data, binary.LittleEndian), nil
	case dcmRLE:
		out, err := dicomCodecRLE(data, d.rows, d.cols, d.spp, d.bitsAlloc)
		if err != nil {
			return nil, d.codecError(i, err)
		}
		if len(out) < d.nativeFrameBytes() {
			return nil, corruptf("RLE frame %d decoded to %d bytes, want %d", i, len(out), d.nativeFrameBytes())
		}
		// The RLE decoder returns interleaved samples whatever the
		// Planar Configuration says (PS3.5 G.2 stores planes by segment).
		saved := d.planar
		d.planar = false
		r := d.nativeBytes(out, binary.LittleEndian)
		d.planar = saved
		return r, nil
	case dcmJPEG, dcmJPEGLS:
		return d.rawJPEG(i, data)
	case dcmJPEG2000:
		if err := d.checkJ2KSize(data); err != nil {
			return nil, err
		}
		img, err := dicomCodecJ2K(data)
		if err != nil {
			return nil, d.codecError(i, err)
		}
		return d.fromCodec(i, img)
	}
	return nil, d.h.TS.unsupported()
}

// codecError classifies an error from a codec package.
func (d *dicomImage) codecError(i int, err error) error {
	switch {
	case errors.Is(err, errDICOMNoCodec):
		return d.h.TS.unsupported()
	case errors.Is(err, errDICOMCodecUnsupported):
		return unsupportedf("unsupported %s stream in frame %d: %v", d.h.TS.Name, i, err)
	case errors.Is(err, errDICOMCodecTooLarge):
		return &decodeerr.TooLargeError{What: fmt.Sprintf("frame %d as coded", i), Limit: "the codec's frame size limit"}
	}
	return corruptf("frame %d: %w", i, err)
}

// rawNative slices frame i out of uncompressed pixel data.
func (d *dicomImage) rawNative(i int) (*dicomRaw, error) {
	v := d.h.Pixel.Value
	if d.bitsAlloc == 1 {
		n := d.rows * d.cols
		out := make([]byte, n)
		base := i * n
		for k := range out {
			bit := base + k
			out[k] = v[bit>>3] >> (bit & 7) & 1
		}
		return &dicomRaw{mono: dicomMonoFrame{u8: out, mask: 1}}, nil
	}
	fs := d.nativeFrameBytes()
	data := v[i*fs : (i+1)*fs]
	bo := d.h.Enc.bo
	if bo == binary.BigEndian && d.bitsAlloc == 8 && d.h.Pixel.VR == "OW" {
		// 8-bit samples in an OW value are byte-swapped in pairs under
		// big endian.
		sw := make([]byte, len(data)+len(data)%2)
		copy(sw, data)
		for k := 0; k+1 < len(sw); k += 2 {
			sw[k], sw[k+1] = sw[k+1], sw[k]
		}
		data = sw[:len(data)]
	}
	return d.nativeBytes(data, bo), nil
}

// nativeBytes interprets one frame of uncompressed samples.
func (d *dicomImage) nativeBytes(data []byte, bo binary.ByteOrder) *dicomRaw {
	shift := uint(d.highBit + 1 - d.bitsStored)
	if d.spp == 1 {
		f := dicomMonoFrame{shift: shift, mask: d.monoMask()}
		n := d.rows * d.cols
		switch d.bitsAlloc {
		case 8:
			f.u8 = data[:n]
		case 16:
			if bo == binary.LittleEndian {
				f.le16 = data[:2*n]
			} else {
				f.u16 = make([]uint16, n)
				for k := range f.u16 {
					f.u16[k] = bo.Uint16(data[2*k:])
				}
			}
		case 32:
			f.u32 = make([]uint32, n)
			for k := range f.u32 {
				f.u32[k] = bo.Uint32(data[4*k:])
			}
		}
		return &dicomRaw{mono: f}
	}
	return &dicomRaw{rgb: d.nativeColor(data, bo, shift), ybr: d.photometric == "YBR_FULL" || d.photometric == "YBR_FULL_422"}
}

// rawJPEG decodes a JPEG-family frame, dispatching on its SOF marker rather
// than the transfer syntax UID, which writers get wrong.
func (d *dicomImage) rawJPEG(i int, data []byte) (*dicomRaw, error) {
	mk, err := jpeghdr.Parse(data)
	if err != nil {
		return nil, corruptf("frame %d: %w", i, err)
	}
	if mk.Width != d.cols || mk.Height != d.rows && mk.Height != 0 {
		return nil, corruptf("frame %d is %dx%d, the header says %dx%d", i, mk.Width, mk.Height, d.cols, d.rows)
	}
	switch {
	case mk.SOF == 0xF7: // SOF55: JPEG-LS
		img, err := dicomCodecJPEGLS(data)
		if err != nil {
			return nil, d.codecError(i, err)
		}
		return d.fromCodec(i, img)
	case mk.SOF == 0xC3 || mk.Precision > 8 && (mk.SOF == 0xC0 || mk.SOF == 0xC1):
		img, err := dicomCodecLJPEG(data)
		if err != nil {
			return nil, d.codecError(i, err)
		}
		return d.fromCodec(i, img)
	case mk.Precision == 8 && (mk.SOF == 0xC0 || mk.SOF == 0xC1 || mk.SOF == 0xC2):
		return d.fromStdJPEG(i, data, mk)
	}
	return nil, unsupportedf("unsupported JPEG process (SOF %#02x, %d-bit) in %s", mk.SOF, mk.Precision, d.h.TS.Name)
}

// fromCodec turns a codec's output into stored values.
func (d *dicomImage) fromCodec(i int, img *dicomCodecImage) (*dicomRaw, error) {
	n := d.rows * d.cols
	if img.Width != d.cols || img.Height != d.rows || len(img.Pix) < n*img.Components {
		return nil, corruptf("frame %d decoded to %dx%d, the header says %dx%d", i, img.Width, img.Height, d.cols, d.rows)
	}
	switch img.Components {
	case 1:
		pix := img.Pix[:n]
		if p := uint(img.Precision); img.Signed && p > 0 && p < 16 && int(p) < d.bitsStored {
			// A signed JPEG 2000 stream narrower than Bits Stored: widen
			// its two's complement so the mask keeps the sign.
			for k, v := range pix {
				if v&(1<<(p-1)) != 0 {
					pix[k] = v | ^uint16(0)<<p
				}
			}
		}
		return &dicomRaw{mono: dicomMonoFrame{u16: pix, mask: d.monoMask()}}, nil
	case 3:
		prec := img.Precision
		if prec <= 0 {
			prec = d.bitsStored
		}
		shift := uint(max(prec-8, 0))
		rgb := make([]byte, 3*n)
		for k, v := range img.Pix[:3*n] {
			rgb[k] = uint8(min(uint32(v)>>shift, 255))
		}
		// JPEG 2000 undoes its own component transform (YBR_RCT/ICT);
		// lossless JPEG and JPEG-LS store what the photometric says.
		ybr := (d.photometric == "YBR_FULL" || d.photometric == "YBR_FULL_422") && d.h.TS.Kind != dcmJPEG2000
		return &dicomRaw{rgb: rgb, ybr: ybr}, nil
	}
	return nil, unsupportedf("unsupported %d-component frame in %s", img.Components, d.h.TS.Name)
}

// checkJ2KSize reads a JPEG 2000 codestream's SIZ marker and refuses an
// image that does not match the header before the codec allocates for it.
func (d *dicomImage) checkJ2KSize(data []byte) error {
	i := bytes.Index(data, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if i < 0 || len(data) < i+4+2+2+16 {
		return corruptf("JPEG 2000 frame without SIZ marker")
	}
	s := data[i+6:]
	xs, ys := binary.BigEndian.Uint32(s[2:]), binary.BigEndian.Uint32(s[6:])
	xo, yo := binary.BigEndian.Uint32(s[10:]), binary.BigEndian.Uint32(s[14:])
	if xs < xo || ys < yo || int64(xs-xo) != int64(d.cols) || int64(ys-yo) != int64(d.rows) {
		return corruptf("JPEG 2000 frame is %dx%d, the header says %dx%d", int64(xs)-int64(xo), int64(ys)-int64(yo), d.cols, d.rows)
	}
	return nil
}

// renderMono renders frame i's stored values to grey, and when the header
// gives the VOI transform (a window or a VOI LUT), to grey under a min-max
// window as well: scripts that export DICOM for machine learning mostly
// scale each frame from its minimum to its maximum, and where the stored
// window clips (a CT's soft-tissue window, a PET's) that is another
// picture, which only its own fingerprint finds.
//
// A window that clips no value of the frame makes the min-max picture with
// less contrast, which hashes the same: then there is no second rendering
// (the common case for 8-bit ultrasound, whose window spans 0-255).
func (d *dicomImage) renderMono(i int, f *dicomMonoFrame) (out, minMax *image.Gray) {
	m := d.monoFor(i)
	out = d.renderVOI(f, m)
	if m.needsRange() {
		return out, nil
	}
	mm := *m
	mm.win, mm.voiLUT = nil, nil
	if m.win != nil && f.u32 == nil {
		n := int(f.mask) + 1
		if len(d.seen) != n {
			d.seen = make([]bool, n)
		}
		clear(d.seen)
		f.markSeen(d.seen)
		if m.win.covers(mm.rangeOfSeen(d.seen)) {
			return out, nil
		}
	}
	return out, d.renderVOI(f, &mm)
}

// renderVOI renders f through m.
func (d *dicomImage) renderVOI(f *dicomMonoFrame, m *dicomMono) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, d.cols, d.rows))
	if f.u32 != nil {
		f.renderWide(out.Pix, m)
		return out
	}
	key := dicomLUTKey{valid: true, slope: m.slope, intercept: m.intercept, hasVOILUT: m.voiLUT != nil}
	if m.win != nil {
		key.hasWin, key.win = true, *m.win
	}
	if len(d.lut) != int(f.mask)+1 {
		// First frame, or a frame whose codec yields a different sample
		// width than the last (a hostile file can mix them).
		d.lut = make([]uint8, int(f.mask)+1)
		d.filled = make([]bool, int(f.mask)+1)
		d.seen = nil
		d.lutKey = dicomLUTKey{}
	}
	if key != d.lutKey {
		clear(d.filled)
		d.lutKey, d.lutFull = key, false
	}
	n := int(f.mask) + 1
	if !m.needsRange() && (n <= 4096 || d.rows*d.cols >= 4*n) {
		// Filling the whole table costs less than finding which entries
		// the frame uses.
		if !d.lutFull {
			for i := range n {
				d.lut[i] = m.grey(m.stored(i), 0, 0)
			}
			d.lutFull = true
		}
		f.render(out.Pix, d.lut)
		return out
	}
	// Otherwise fill only the entries this frame uses: a small 16-bit
	// image uses a few thousand of 65536, and filling all of them would
	// cost more than rendering it.
	if d.seen == nil {
		d.seen = make([]bool, n)
	}
	clear(d.seen)
	f.markSeen(d.seen)
	if m.needsRange() {
		key.lo, key.hi = m.rangeOfSeen(d.seen)
		if key != d.lutKey {
			clear(d.filled)
			d.lutKey = key
		}
	}
	for i, s := range d.seen {
		if s && !d.filled[i] {
			d.lut[i] = m.grey(m.stored(i), key.lo, key.hi)
			d.filled[i] = true
		}
	}
	f.render(out.Pix, d.lut)
	return out
}

// renderPalette expands stored values through the palette LUTs.
func (d *dicomImage) renderPalette(f *dicomMonoFrame) *image.RGBA {
	m := &dicomMono{bits: d.bitsStored, signed: d.signed}
	n := int(f.mask) + 1 // 1 << bits stored, or 256 for an 8-bit JPEG
	var tabs [3][]uint8
	for c, l := range d.palette {
		tabs[c] = make([]uint8, n)
		shift := uint(max(l.bits-8, 0))
		for k := range n {
			tabs[c][k] = uint8(l.at(m.stored(k)) >> shift)
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, d.cols, d.rows))
	np := d.rows * d.cols
	at := func(k int) uint32 {
		switch {
		case f.u8 != nil:
			return uint32(f.u8[k]) >> f.shift & f.mask
		case f.le16 != nil:
			return uint32(binary.LittleEndian.Uint16(f.le16[2*k:])) >> f.shift & f.mask
		default:
			return uint32(f.u16[k]) >> f.shift & f.mask
		}
	}
	for k := range np {
		v := at(k)
		o := out.Pix[4*k : 4*k+4 : 4*k+4]
		o[0], o[1], o[2], o[3] = tabs[0][v], tabs[1][v], tabs[2][v], 255
	}
	return out
}
