package dicom

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// The monochrome pipeline of PS3.4 N.2.1 (as DCMTK and viewers implement it):
// stored value -> Modality LUT (rescale or LUT Sequence) -> VOI LUT (window,
// VOI LUT Sequence, or min-max of the frame) -> MONOCHROME1 inversion -> 8-bit
// grey. For up to 16 bits stored, the whole chain is folded into one table
// indexed by the masked stored value (dicomMono.table), so rendering a pixel
// is a shift, a mask and a load; wider data falls back to per-pixel math.

// Tags of the monochrome pipeline that the library names differently or
// that live in functional groups.
var (
	tagPixelValueTransformationSequence = tag.Tag{Group: 0x0028, Element: 0x9145}
	tagFrameVOILUTSequence              = tag.Tag{Group: 0x0028, Element: 0x9132}
	tagVOILUTFunction                   = tag.Tag{Group: 0x0028, Element: 0x1056}
	tagPixelPaddingRangeLimit           = tag.Tag{Group: 0x0028, Element: 0x0121}
)

// dicomLUT is a lookup table built from a LUT Descriptor and LUT Data.
type dicomLUT struct {
	first int // the stored (or modality) value that maps to data[0]
	bits  int // bits per entry, raised when the data holds wider values
	data  []uint16
}

// at looks x up, clamping to the first and last entries as PS3.3 C.11.1.1
// requires.
func (l *dicomLUT) at(x int) uint16 {
	i := x - l.first
	if i < 0 {
		i = 0
	} else if i >= len(l.data) {
		i = len(l.data) - 1
	}
	return l.data[i]
}

// max is the largest entry value the table's bit depth allows.
func (l *dicomLUT) max() float64 { return float64(int(1)<<l.bits - 1) }

// parseDICOMLUT reads a LUT Descriptor (entries, first value mapped, bits)
// and its data from a. signedFirst says the first-value-mapped is an SS
// that implicit VR delivered as US. It returns nil for a missing or
// unusable table, which callers treat as absent.
func parseDICOMLUT(a dicomAttrs, descTag, dataTag tag.Tag, signedFirst bool) *dicomLUT {
	d := a.nums(descTag)
	if len(d) < 3 {
		return nil
	}
	n, first, bits := int(d[0]), int(d[1]), int(d[2])
	if n <= 0 {
		n = 65536 // PS3.3 C.11.1.1: 0 means 2^16 entries
	}
	if signedFirst && first > 32767 {
		first -= 65536
	}
	data := a.words(dataTag, n, bits)
	if len(data) == 0 {
		return nil
	}
	if len(data) > n {
		data = data[:n]
	}
	var hi uint16
	for _, v := range data {
		hi = max(hi, v)
	}
	if bits < 8 || bits > 16 {
		bits = 16
	}
	// Entries wider than the descriptor says are common (the grailbio XA's
	// Modality LUT claims 8 bits and holds values up to 2^9); DCMTK widens
	// the table rather than clip, and so do we.
	for bits < 16 && int(hi) >= 1<<bits {
		bits++
	}
	return &dicomLUT{first: first, bits: bits, data: data}
}

// dicomWindow is a VOI window (PS3.3 C.11.2.1.2).
type dicomWindow struct {
	center, width float64
	fn            string // LINEAR, LINEAR_EXACT or SIGMOID
}

// covers reports whether the window maps every modality value in [lo, hi]
// linearly, clipping none: the picture is then the min-max one with less
// contrast. A sigmoid window never does.
func (w *dicomWindow) covers(lo, hi float64) bool {
	switch w.fn {
	case "LINEAR_EXACT":
		return lo >= w.center-w.width/2 && hi <= w.center+w.width/2
	case "LINEAR":
		return lo >= w.center-0.5-(w.width-1)/2 && hi <= w.center-0.5+(w.width-1)/2
	}
	return false
}

// dicomMono holds what renders one monochrome frame.
type dicomMono struct {
	bits             int // bits stored: the width of the table's index
	signed           bool
	slope, intercept float64
	modLUT           *dicomLUT
	win              *dicomWindow
	voiLUT           *dicomLUT
	invert           bool // MONOCHROME1
	hasPad           bool // padding values are left out of min-max
	padLo, padHi     int
}

// monoFor chooses the Modality and VOI transforms for frame i: a per-frame
// functional group first, then the shared functional groups, then the
// top-level attributes, as PS3.3 C.7.6.16 layers them.
func (d *dicomImage) monoFor(i int) *dicomMono {
	var perFrame dicomAttrs
	if i < len(d.perFrame) {
		perFrame = d.perFrame[i]
	}
	top, shared, signed := d.h.Attrs, d.shared, d.signed
	// MONOCHROME1 shows its lowest values white; so does MONOCHROME2 under
	// an INVERSE Presentation LUT Shape. A MONOCHROME1 image carries INVERSE
	// to say the same thing again (PS3.3 C.8.11.6.1.1), not to invert twice;
	// DCMTK reads it the same way.
	inverse := strings.EqualFold(top.str(tag.PresentationLUTShape), "INVERSE")
	m := &dicomMono{bits: d.bitsStored, signed: signed, slope: 1, invert: d.photometric == "MONOCHROME1" || inverse}
	levels := []dicomAttrs{
		perFrame.item(tagPixelValueTransformationSequence),
		shared.item(tagPixelValueTransformationSequence),
		top,
	}
	for _, a := range levels {
		s, okS := a.num(tag.RescaleSlope, 1)
		i, okI := a.num(tag.RescaleIntercept, 0)
		if okS || okI {
			if s == 0 {
				s = 1 // a zero slope would erase the image; DCMTK treats it as 1 too
			}
			m.slope, m.intercept = s, i
			break
		}
	}
	if it := top.item(tag.ModalityLUTSequence); it != nil && !d.xray {
		m.modLUT = parseDICOMLUT(it, tag.LUTDescriptor, tag.LUTData, signed)
	}

	for _, a := range []dicomAttrs{perFrame.item(tagFrameVOILUTSequence), shared.item(tagFrameVOILUTSequence), top} {
		cs, ws := a.nums(tag.WindowCenter), a.nums(tag.WindowWidth)
		if len(cs) == 0 || len(ws) == 0 {
			continue
		}
		w := dicomWindow{center: cs[0], width: ws[0], fn: strings.ToUpper(a.str(tagVOILUTFunction))}
		if w.fn != "LINEAR_EXACT" && w.fn != "SIGMOID" {
			w.fn = "LINEAR"
		}
		if w.width >= 1 || w.fn != "LINEAR" && w.width > 0 {
			m.win = &w
		}
		break
	}
	if m.win == nil {
		if it := top.item(tag.VOILUTSequence); it != nil {
			lo, _ := m.modalityBounds()
			m.voiLUT = parseDICOMLUT(it, tag.LUTDescriptor, tag.LUTData, signed || lo < 0)
		}
	}

	if p, ok := top.num(tag.PixelPaddingValue, 0); ok {
		m.hasPad = true
		m.padLo, m.padHi = m.fromUS(int(p)), m.fromUS(int(p))
		if r, ok := top.num(tagPixelPaddingRangeLimit, 0); ok {
			m.padHi = m.fromUS(int(r))
			if m.padHi < m.padLo {
				m.padLo, m.padHi = m.padHi, m.padLo
			}
		}
	}
	return m
}

// fromUS undoes implicit VR's reading of an SS attribute as US.
func (m *dicomMono) fromUS(v int) int {
	if m.signed && v > 32767 && v < 65536 {
		return v - 65536
	}
	return v
}

// stored returns the stored value of table index i (the masked raw bits),
// sign-extended when the data is signed.
func (m *dicomMono) stored(i int) int {
	if m.signed && m.bits > 0 && i >= 1<<(m.bits-1) {
		return i - 1<<m.bits
	}
	return i
}

// modality applies the Modality LUT to stored value x.
func (m *dicomMono) modality(x int) float64 {
	if m.modLUT != nil {
		return float64(m.modLUT.at(x))
	}
	return float64(x)*m.slope + m.intercept
}

// modalityBounds is the range of modality values the stored bits can
// produce.
func (m *dicomMono) modalityBounds() (float64, float64) {
	lo, hi := 0, 1<<min(m.bits, 32)-1
	if m.signed {
		lo, hi = -(1 << (m.bits - 1)), 1<<(m.bits-1)-1
	}
	a, b := m.modality(lo), m.modality(hi)
	return min(a, b), max(a, b)
}

// needsRange reports whether the VOI step is min-max, which needs each
// frame's modality range.
func (m *dicomMono) needsRange() bool { return m.win == nil && m.voiLUT == nil }

// voi maps modality value v to [0, 255]; lo and hi are the frame's modality
// range for min-max.
func (m *dicomMono) voi(v, lo, hi float64) float64 {
	const ymax = 255
	switch {
	case m.win != nil:
		c, w := m.win.center, m.win.width
		switch m.win.fn {
		case "LINEAR_EXACT":
			switch {
			case v <= c-w/2:
				return 0
			case v > c+w/2:
				return ymax
			}
			return ((v-c)/w + 0.5) * ymax
		case "SIGMOID":
			return ymax / (1 + math.Exp(-4*(v-c)/w))
		default:
			switch {
			case v <= c-0.5-(w-1)/2:
				return 0
			case v > c-0.5+(w-1)/2:
				return ymax
			}
			return ((v-(c-0.5))/(w-1) + 0.5) * ymax
		}
	case m.voiLUT != nil:
		return float64(m.voiLUT.at(int(math.Floor(v)))) * ymax / m.voiLUT.max()
	case hi > lo:
		return math.Max(0, math.Min(ymax, (v-lo)/(hi-lo)*ymax))
	}
	return 0
}

// grey renders stored value x to its output grey level.
func (m *dicomMono) grey(x int, lo, hi float64) uint8 {
	y := uint8(m.voi(m.modality(x), lo, hi) + 0.5)
	if m.invert {
		y = 255 - y
	}
	return y
}

// isPad reports whether stored value x is padding.
func (m *dicomMono) isPad(x int) bool { return m.hasPad && x >= m.padLo && x <= m.padHi }

// rangeOfSeen returns the modality range over the stored values whose
// indices are marked in seen, leaving padding out (a CT's -2000 air padding
// would otherwise squash the whole body into a few grey levels).
func (m *dicomMono) rangeOfSeen(seen []bool) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, s := range seen {
		if !s {
			continue
		}
		x := m.stored(i)
		if m.isPad(x) {
			continue
		}
		v := m.modality(x)
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

// dicomMonoFrame is one frame of monochrome stored values in one of the
// layouts the decoders produce. Index = (raw >> shift) & mask.
type dicomMonoFrame struct {
	u8    []byte   // one byte per sample
	le16  []byte   // 16-bit little-endian words (native data)
	u16   []uint16 // decoded by a codec
	u32   []uint32 // 32-bit allocated native data
	shift uint
	mask  uint32
}

// markSeen marks the index of every pixel in seen (len mask+1).
func (f *dicomMonoFrame) markSeen(seen []bool) {
	sh, mk := f.shift, f.mask
	switch {
	case f.u8 != nil:
		for _, v := range f.u8 {
			seen[uint32(v)>>sh&mk] = true
		}
	case f.le16 != nil:
		for i := 0; i+1 < len(f.le16); i += 2 {
			seen[uint32(binary.LittleEndian.Uint16(f.le16[i:]))>>sh&mk] = true
		}
	case f.u16 != nil:
		for _, v := range f.u16 {
			seen[uint32(v)>>sh&mk] = true
		}
	}
}

// render writes the frame's grey levels to dst through lut, which has
// mask+1 entries.
func (f *dicomMonoFrame) render(dst []uint8, lut []uint8) {
	sh, mk := f.shift, f.mask
	lut = lut[:mk+1]
	switch {
	case f.u8 != nil:
		src := f.u8[:len(dst)]
		for i, v := range src {
			dst[i] = lut[uint32(v)>>sh&mk]
		}
	case f.le16 != nil:
		src := f.le16[:2*len(dst)]
		for i := range dst {
			dst[i] = lut[uint32(binary.LittleEndian.Uint16(src[2*i:]))>>sh&mk]
		}
	case f.u16 != nil:
		src := f.u16[:len(dst)]
		for i, v := range src {
			dst[i] = lut[uint32(v)>>sh&mk]
		}
	}
}

// renderWide renders 32-bit data with per-pixel arithmetic; such data is
// rare (dose maps, some PET) and a 2^32-entry table is not an option.
func (f *dicomMonoFrame) renderWide(dst []uint8, m *dicomMono) {
	val := func(raw uint32) int {
		v := uint64(raw>>f.shift) & uint64(f.mask)
		if m.signed && m.bits > 0 && v >= 1<<(m.bits-1) {
			return int(int64(v) - 1<<m.bits)
		}
		return int(v)
	}
	lo, hi := 0.0, 0.0
	if m.needsRange() {
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, raw := range f.u32[:len(dst)] {
			x := val(raw)
			if m.isPad(x) {
				continue
			}
			v := m.modality(x)
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo > hi {
			lo, hi = 0, 0
		}
	}
	for i, raw := range f.u32[:len(dst)] {
		dst[i] = m.grey(val(raw), lo, hi)
	}
}
