package dicom

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	dicomlib "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// dicomAttrs is one level of a parsed data set (the top level or a sequence
// item), with typed getters that tolerate the value shapes the library
// produces for the same attribute in different encodings: an implicit VR US
// element arrives as ints, an IS or DS as strings, LUT data as ints (US) or
// bytes (OW, always little endian after the library).
type dicomAttrs []*dicomlib.Element

// find returns the element with tag t, or nil.
func (a dicomAttrs) find(t tag.Tag) *dicomlib.Element {
	for _, e := range a {
		if e != nil && e.Tag == t {
			return e
		}
	}
	return nil
}

// value returns an element's value. A standard attribute stored with VR UN
// (as GDCM writes attributes it converted from implicit VR) arrives from the
// library as bytes; it is decoded here by the VR the dictionary gives it, as
// DCMTK does.
func (a dicomAttrs) value(t tag.Tag) any {
	e := a.find(t)
	if e == nil || e.Value == nil {
		return nil
	}
	v := e.Value.GetValue()
	b, ok := v.([]byte)
	if !ok || e.RawValueRepresentation != "UN" {
		return v
	}
	info, err := tag.Find(t)
	if err != nil {
		return v
	}
	switch vr := info.VRs[0]; vr {
	case "US", "SS", "UL", "SL":
		size := 2
		if vr == "UL" || vr == "SL" {
			size = 4
		}
		out := make([]int, 0, len(b)/size)
		for i := 0; i+size <= len(b); i += size {
			switch vr {
			case "US":
				out = append(out, int(binary.LittleEndian.Uint16(b[i:])))
			case "SS":
				out = append(out, int(int16(binary.LittleEndian.Uint16(b[i:]))))
			case "UL":
				out = append(out, int(binary.LittleEndian.Uint32(b[i:])))
			default:
				out = append(out, int(int32(binary.LittleEndian.Uint32(b[i:]))))
			}
		}
		return out
	case "FL", "FD":
		size := 4
		if vr == "FD" {
			size = 8
		}
		out := make([]float64, 0, len(b)/size)
		for i := 0; i+size <= len(b); i += size {
			if size == 4 {
				out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
			} else {
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
			}
		}
		return out
	case "OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ", "AT":
		return v
	}
	str := strings.TrimRight(string(b), " \x00")
	if str == "" {
		return []string{}
	}
	return strings.Split(str, `\`)
}

// strs returns a string-valued element's values, or nil.
func (a dicomAttrs) strs(t tag.Tag) []string {
	v, _ := a.value(t).([]string)
	return v
}

// str returns the element's value as one string (values joined by the
// backslash the library split them on), trimmed of padding.
func (a dicomAttrs) str(t tag.Tag) string {
	return strings.TrimSpace(strings.Trim(strings.Join(a.strs(t), `\`), "\x00"))
}

// nums returns an element's values as numbers, whatever their VR.
func (a dicomAttrs) nums(t tag.Tag) []float64 {
	switch v := a.value(t).(type) {
	case []int:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return v
	case []string:
		var out []float64
		for _, s := range v {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.Trim(s, "\x00")), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return out
			}
			out = append(out, f)
		}
		return out
	case []byte:
		// A US/SS value read as bytes (an unknown VR in implicit syntax).
		var out []float64
		for i := 0; i+2 <= len(v); i += 2 {
			out = append(out, float64(binary.LittleEndian.Uint16(v[i:])))
		}
		return out
	}
	return nil
}

// num returns the element's first value, or def when it is absent.
func (a dicomAttrs) num(t tag.Tag, def float64) (float64, bool) {
	if v := a.nums(t); len(v) > 0 {
		return v[0], true
	}
	return def, false
}

// int returns the element's first value as an int, or def.
func (a dicomAttrs) int(t tag.Tag, def int) int {
	v, ok := a.num(t, 0)
	if !ok || v > math.MaxInt32 || v < math.MinInt32 {
		return def
	}
	return int(v)
}

// words returns LUT data as 16-bit entries: ints as they are, bytes as
// little-endian words, or one entry per byte when the data is packed 8-bit
// (as PS3.3 C.7.6.3.1.6 requires of 8-bit palette data).
func (a dicomAttrs) words(t tag.Tag, entries, bits int) []uint16 {
	e := a.find(t)
	if e == nil || e.Value == nil {
		return nil
	}
	switch v := e.Value.GetValue().(type) {
	case []int:
		out := make([]uint16, len(v))
		for i, x := range v {
			out[i] = uint16(x)
		}
		return out
	case []byte:
		if bits <= 8 && len(v) < 2*entries {
			out := make([]uint16, len(v))
			for i, x := range v {
				out[i] = uint16(x)
			}
			return out
		}
		out := make([]uint16, len(v)/2)
		for i := range out {
			out[i] = binary.LittleEndian.Uint16(v[2*i:])
		}
		return out
	}
	return nil
}

// items returns the items of a sequence element.
func (a dicomAttrs) items(t tag.Tag) []dicomAttrs {
	e := a.find(t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, _ := e.Value.GetValue().([]*dicomlib.SequenceItemValue)
	out := make([]dicomAttrs, 0, len(seq))
	for _, it := range seq {
		if it == nil {
			continue
		}
		els, _ := it.GetValue().([]*dicomlib.Element)
		out = append(out, dicomAttrs(els))
	}
	return out
}

// item returns the first item of a sequence, or nil.
func (a dicomAttrs) item(t tag.Tag) dicomAttrs {
	if it := a.items(t); len(it) > 0 {
		return it[0]
	}
	return nil
}
