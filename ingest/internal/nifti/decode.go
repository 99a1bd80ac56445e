package nifti

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/copycat-dev/copycat/ingest/internal/decodeerr"
	"github.com/klauspost/compress/gzip"
)

// Window is a way of mapping a slice's values to 8 bits, one of those that
// slice-dump scripts use.
type Window int

// The windows. The percentile and volume windows are computed over the
// whole 3-D volume (one time point), as np.percentile(vol, ...) is.
const (
	// WindowCal maps cal_min..cal_max, when the header sets them (the
	// display range viewers such as FSLeyes and MRIcron start from); a
	// volume without them gets no rendering under it.
	WindowCal Window = iota
	// WindowSliceMinMax maps each slice's least value to 0, its greatest
	// to 255.
	WindowSliceMinMax
	// WindowVolumeMinMax maps the volume's least value to 0, its greatest
	// to 255.
	WindowVolumeMinMax
	// WindowPercentile05 maps the volume's 0.5th percentile to 0 and its
	// 99.5th to 255, clipping beyond.
	WindowPercentile05
	// WindowPercentile1 maps the 1st to 99th percentile.
	WindowPercentile1
)

// Windows lists every window, in order.
var Windows = []Window{WindowCal, WindowSliceMinMax, WindowVolumeMinMax, WindowPercentile05, WindowPercentile1}

// String names the window as lineage reports it.
func (w Window) String() string {
	switch w {
	case WindowCal:
		return "cal_min/cal_max"
	case WindowSliceMinMax:
		return "min-max per slice"
	case WindowVolumeMinMax:
		return "min-max per volume"
	case WindowPercentile05:
		return "percentile 0.5-99.5"
	case WindowPercentile1:
		return "percentile 1-99"
	}
	return fmt.Sprintf("window(%d)", int(w))
}

// DefaultPixelBudget is the pixel budget of a zero Options: 100
// megapixels, ingest.DefaultPixelBudget. ingest always passes its own.
const DefaultPixelBudget = 100_000_000

// Defaults of the gzip limits, ingest's archive limits.
const (
	DefaultMaxInflated = 1 << 30
	DefaultMaxRatio    = 1000
)

// Options control decoding. The zero value renders nothing but RGB
// volumes; callers name their windows.
type Options struct {
	// PixelBudget bounds a slice and the whole file, in samples, checked
	// from the header. Zero means DefaultPixelBudget.
	PixelBudget int64
	// MaxInflated bounds a gzip'd volume's inflated size; MaxRatio its
	// inflated/compressed ratio once past 1 MiB. Zero means the defaults.
	MaxInflated, MaxRatio int64
	// Windows are the renderings made of each slice of a scalar volume,
	// in Frame.Images.
	Windows []Window
}

func (o Options) budget() int64 {
	if o.PixelBudget > 0 {
		return o.PixelBudget
	}
	return DefaultPixelBudget
}

// Frame is one slice of one volume.
type Frame struct {
	// Index is the frame number in file order: T*slices + Slice.
	Index int
	// Slice is the index along the third voxel axis; T the index of the
	// volume (the product of axes 4 to 7: time point, channel).
	Slice, T int
	// Images holds the slice of a scalar volume under each of
	// Options.Windows (nil where the window does not apply: WindowCal
	// without cal_min/cal_max); for RGB24 and RGBA32 volumes it holds one
	// *image.RGBA, the voxels' colours (alpha dropped).
	Images []image.Image
	// Ranges holds, for a slice of a scalar volume, the range of every
	// window in this slice, in the order of Windows, whatever
	// Options.Windows asked to render: a dump of the slice made under any
	// of them can then be told apart afterwards (lineage names the window
	// a dump used). WindowCal is left out without cal_min/cal_max, and
	// WindowSliceMinMax for a slice without a finite value. Nil for RGB
	// volumes.
	Ranges []Range
}

// Range is what a window maps to black (Low) and to white (High) in one
// slice, in the volume's values (after scl_slope/scl_inter).
type Range struct {
	Window    Window
	Low, High float64
}

// sliceRanges lists the ranges of the windows in one slice: vol holds
// the volume's, lo..hi is the slice's least to greatest value (ok false
// when it has none).
func sliceRanges(h *Header, vol map[Window][2]float64, lo, hi float64, ok bool) []Range {
	out := make([]Range, 0, len(Windows))
	for _, w := range Windows {
		r, have := vol[w]
		switch w {
		case WindowCal:
			have = h.CalMax > h.CalMin
		case WindowSliceMinMax:
			r, have = [2]float64{lo, hi}, ok
		}
		if have {
			out = append(out, Range{Window: w, Low: r[0], High: r[1]})
		}
	}
	return out
}

// Decode decodes a .nii or .nii.gz held in data and calls emit for every
// slice of every volume, in file order. It returns the header (nil when
// none could be read). Errors for bad input are *decodeerr.CorruptError,
// *decodeerr.UnsupportedError or *decodeerr.TooLargeError; an error from emit is returned as
// is.
func Decode(data []byte, opts Options, emit func(Frame) error) (*Header, error) {
	h, vox, err := Load(data, opts)
	if err != nil {
		return h, err
	}
	d := &decoder{h: h, vox: vox, opts: opts}
	return h, d.run(emit)
}

// Load parses the header and returns it with the voxel bytes: data's own
// for a .nii, inflated for a .nii.gz, no further than the header says.
func Load(data []byte, opts Options) (*Header, []byte, error) {
	if !IsGzip(data) {
		h, err := ParseHeader(data[:min(len(data), SizeNIfTI2)])
		if err != nil {
			return nil, nil, err
		}
		if err := h.Check(opts.budget(), int64(len(data))); err != nil {
			return h, nil, err
		}
		return h, data[h.VoxOffset:h.End()], nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, corruptf("gzip: %v", err)
	}
	head := make([]byte, SizeNIfTI2)
	n, err := io.ReadFull(zr, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, corruptf("gzip: %v", err)
	}
	h, err := ParseHeader(head[:n])
	if err != nil {
		return nil, nil, err
	}
	if err := h.Check(opts.budget(), -1); err != nil {
		return h, nil, err
	}
	end := h.End()
	maxInflated, ratio := opts.MaxInflated, opts.MaxRatio
	if maxInflated <= 0 {
		maxInflated = DefaultMaxInflated
	}
	if ratio <= 0 {
		ratio = DefaultMaxRatio
	}
	switch {
	case end > maxInflated:
		return h, nil, &decodeerr.TooLargeError{What: fmt.Sprintf("gzip'd volume inflating to %d bytes", end), Limit: fmt.Sprintf("file size limit of %d bytes", maxInflated)}
	case end > 1<<20 && end > mulSat(ratio, int64(len(data))):
		return h, nil, &decodeerr.TooLargeError{What: fmt.Sprintf("gzip'd volume expanding %d bytes to %d", len(data), end), Limit: fmt.Sprintf("compression ratio limit of %d:1", ratio)}
	}
	buf := make([]byte, end)
	copy(buf, head[:n])
	if int64(n) < end {
		if _, err := io.ReadFull(zr, buf[n:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return h, nil, corruptf("dims %s of %s need %d bytes from vox_offset %d, the gzip stream holds fewer", h.DimString(), h.TypeName(), h.DataBytes(), h.VoxOffset)
			}
			return h, nil, corruptf("gzip: %v", err)
		}
	}
	return h, buf[h.VoxOffset:end], nil
}

// IsGzip reports whether data starts with the gzip magic.
func IsGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// decoder renders the slices of one file.
type decoder struct {
	h    *Header
	vox  []byte // the voxels, from vox_offset
	opts Options
	buf  []float64 // one slice's values
	hist []uint32  // the volume's histogram, for percentiles
}

func (d *decoder) run(emit func(Frame) error) error {
	h := d.h
	rows, cols := int(h.Height()), int(h.Width())
	nz, nt := int(h.Slices()), int(h.Volumes())
	sliceBytes := rows * cols * h.VoxelBytes()
	if h.Samples() > 1 {
		for t := range nt {
			for k := range nz {
				off := (t*nz + k) * sliceBytes
				img := rgbSlice(d.vox[off:off+sliceBytes], rows, cols, h.Samples())
				if err := emit(Frame{Index: t*nz + k, Slice: k, T: t, Images: []image.Image{img}}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if coded(h.Datatype) {
		return d.runCoded(emit)
	}
	d.buf = make([]float64, rows*cols)
	for t := range nt {
		vol := d.vox[t*nz*sliceBytes : (t+1)*nz*sliceBytes]
		ranges := d.volumeRanges(vol, nz, sliceBytes)
		for k := range nz {
			d.load(vol[k*sliceBytes : (k+1)*sliceBytes])
			slo, shi, sok := minMax(d.buf)
			f := Frame{Index: t*nz + k, Slice: k, T: t, Images: make([]image.Image, len(d.opts.Windows)),
				Ranges: sliceRanges(h, ranges, slo, shi, sok)}
			for i, w := range d.opts.Windows {
				lo, hi, ok := ranges[w][0], ranges[w][1], true
				switch w {
				case WindowSliceMinMax:
					lo, hi = slo, shi
				case WindowCal:
					ok = h.CalMax > h.CalMin
				}
				if ok {
					f.Images[i] = render(d.buf, rows, cols, lo, hi)
				}
			}
			if err := emit(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// volumeRanges computes, over one volume, the value range of each window
// that depends on the whole volume: all of them, whichever the options
// render, since every slice's Frame.Ranges holds them.
func (d *decoder) volumeRanges(vol []byte, nz, sliceBytes int) map[Window][2]float64 {
	r := map[Window][2]float64{WindowCal: {d.h.CalMin, d.h.CalMax}}
	lo, hi := math.Inf(1), math.Inf(-1)
	integral := true
	var n int64
	for k := range nz {
		d.load(vol[k*sliceBytes : (k+1)*sliceBytes])
		for _, x := range d.buf {
			if !finite(x) {
				continue
			}
			n++
			lo, hi = min(lo, x), max(hi, x)
			if integral && x != math.Trunc(x) {
				integral = false
			}
		}
	}
	if n == 0 {
		return r
	}
	r[WindowVolumeMinMax] = [2]float64{lo, hi}
	// A histogram of 65536 bins: exact for integer values spanning fewer
	// (one bin per value), within 1/65536 of the range otherwise, far
	// below one 8-bit level.
	const bins = 1 << 16
	width := (hi - lo) / bins
	if integral && hi-lo < bins {
		width = 1
	}
	if width == 0 {
		width = 1
	}
	if d.hist == nil {
		d.hist = make([]uint32, bins)
	} else {
		clear(d.hist)
	}
	for k := range nz {
		d.load(vol[k*sliceBytes : (k+1)*sliceBytes])
		for _, x := range d.buf {
			if !finite(x) {
				continue
			}
			d.hist[min(int((x-lo)/width), bins-1)]++
		}
	}
	value := func(p float64) float64 {
		// np.percentile's default: linear interpolation between the
		// values of ranks floor and ceil of p/100*(n-1).
		rank := p / 100 * float64(n-1)
		a, b := d.rankValue(int64(math.Floor(rank)), lo, width, integral), d.rankValue(int64(math.Ceil(rank)), lo, width, integral)
		return a + (b-a)*(rank-math.Floor(rank))
	}
	r[WindowPercentile05] = [2]float64{value(0.5), value(99.5)}
	r[WindowPercentile1] = [2]float64{value(1), value(99)}
	return r
}

// rankValue returns the value of the 0-based rank in the histogram: a
// bin's value when bins are single integers, else its centre.
func (d *decoder) rankValue(rank int64, lo, width float64, integral bool) float64 {
	var seen int64
	for i, c := range d.hist {
		seen += int64(c)
		if seen > rank {
			if integral && width == 1 {
				return lo + float64(i)
			}
			return lo + (float64(i)+0.5)*width
		}
	}
	return lo + float64(len(d.hist))*width
}

// load converts one slice's voxels to values in d.buf.
func (d *decoder) load(src []byte) { d.h.Values(d.buf, src) }

// Values converts the voxels in src, as Load returns them, to values in
// dst (len(dst) voxels of a scalar data type), scaled by
// scl_slope/scl_inter; NaN stays NaN. RGB voxels are not converted.
func (h *Header) Values(dst []float64, src []byte) {
	le := h.ByteOrder == binary.LittleEndian
	bo := h.ByteOrder
	switch h.Datatype {
	case TypeUint8:
		for i := range dst {
			dst[i] = float64(src[i])
		}
	case TypeInt8:
		for i := range dst {
			dst[i] = float64(int8(src[i]))
		}
	case TypeInt16:
		if le {
			for i := range dst {
				dst[i] = float64(int16(binary.LittleEndian.Uint16(src[2*i:])))
			}
		} else {
			for i := range dst {
				dst[i] = float64(int16(bo.Uint16(src[2*i:])))
			}
		}
	case TypeUint16:
		for i := range dst {
			dst[i] = float64(bo.Uint16(src[2*i:]))
		}
	case TypeInt32:
		for i := range dst {
			dst[i] = float64(int32(bo.Uint32(src[4*i:])))
		}
	case TypeUint32:
		for i := range dst {
			dst[i] = float64(bo.Uint32(src[4*i:]))
		}
	case TypeFloat32:
		if le {
			for i := range dst {
				dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
			}
		} else {
			for i := range dst {
				dst[i] = float64(math.Float32frombits(bo.Uint32(src[4*i:])))
			}
		}
	case TypeFloat64:
		for i := range dst {
			dst[i] = math.Float64frombits(bo.Uint64(src[8*i:]))
		}
	}
	if s, c := h.SclSlope, h.SclInter; s != 0 && (s != 1 || c != 0) {
		for i, v := range dst {
			dst[i] = v*s + c
		}
	}
}

// minMax returns the least and greatest finite values, and whether any is
// finite.
func minMax(vals []float64) (lo, hi float64, ok bool) {
	l, u := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v >= l && v <= u {
			continue // the common case: inside the range so far
		}
		if !finite(v) {
			continue
		}
		l, u = min(l, v), max(u, v)
	}
	if l > u {
		return 0, 0, false
	}
	return l, u, true
}

// render maps values lo..hi to 0..255, clipping beyond, into an image
// whose rows are the slice's first voxel axis: pixel (col j, row i) is
// the voxel (i, j), stored at vals[i + rows*j]. A flat window (hi <= lo)
// and non-finite values render black, as numpy's NaN cast to uint8 does
// in the scripts that hit them.
func render(vals []float64, rows, cols int, lo, hi float64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, cols, rows))
	if !(hi > lo) {
		return img
	}
	scale := 255 / (hi - lo)
	l := lo
	for j := range cols {
		col := vals[j*rows : (j+1)*rows]
		for i, v := range col {
			x := (v - l) * scale
			var p uint8
			switch {
			case x >= 255:
				p = 255
			case x > 0: // false for NaN
				p = uint8(x + 0.5)
			}
			img.Pix[i*img.Stride+j] = p
		}
	}
	return img
}

// rgbSlice makes an opaque RGBA image of one slice of RGB24 or RGBA32
// voxels (samples interleaved per voxel, as NIfTI stores them).
func rgbSlice(src []byte, rows, cols, spp int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, cols, rows))
	for j := range cols {
		for i := range rows {
			s := src[(i+rows*j)*spp:]
			o := i*img.Stride + 4*j
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = s[0], s[1], s[2], 255
		}
	}
	return img
}

// coded reports whether a data type has at most 16 bits: its voxels are
// then read as codes 0..65535 in the order of their values, counted in a
// histogram and rendered through a lookup table, which is several times
// faster than converting every voxel to a float (twice for the volume's
// statistics, once more to render).
func coded(datatype int) bool {
	switch datatype {
	case TypeUint8, TypeInt8, TypeInt16, TypeUint16:
		return true
	}
	return false
}

// codes converts one slice's voxels to codes: the raw value, with the sign
// bit flipped for signed types so that codes sort as values do.
func (h *Header) codes(dst []uint16, src []byte) {
	switch h.Datatype {
	case TypeUint8:
		for i := range dst {
			dst[i] = uint16(src[i])
		}
	case TypeInt8:
		for i := range dst {
			dst[i] = uint16(src[i] ^ 0x80)
		}
	case TypeInt16, TypeUint16:
		flip := uint16(0)
		if h.Datatype == TypeInt16 {
			flip = 0x8000
		}
		if h.ByteOrder == binary.LittleEndian {
			for i := range dst {
				dst[i] = binary.LittleEndian.Uint16(src[2*i:]) ^ flip
			}
		} else {
			for i := range dst {
				dst[i] = binary.BigEndian.Uint16(src[2*i:]) ^ flip
			}
		}
	}
}

// codeValue returns the value of a code, scaled.
func (h *Header) codeValue(c int) float64 {
	var v float64
	switch h.Datatype {
	case TypeInt8:
		v = float64(int8(uint8(c) ^ 0x80))
	case TypeInt16:
		v = float64(int16(uint16(c) ^ 0x8000))
	default:
		v = float64(c)
	}
	if h.SclSlope != 0 {
		v = v*h.SclSlope + h.SclInter
	}
	return v
}

// runCoded renders the slices of a volume of coded voxels.
func (d *decoder) runCoded(emit func(Frame) error) error {
	h := d.h
	rows, cols := int(h.Height()), int(h.Width())
	nz, nt := int(h.Slices()), int(h.Volumes())
	sliceBytes := rows * cols * h.VoxelBytes()
	codes := make([]uint16, rows*cols)
	luts := make([][]uint8, len(d.opts.Windows))
	for i := range luts {
		luts[i] = make([]uint8, 1<<16)
	}
	var hist []uint32
	sliceLo, sliceHi := make([]uint16, nz), make([]uint16, nz)
	for t := range nt {
		vol := d.vox[t*nz*sliceBytes : (t+1)*nz*sliceBytes]
		// The volume's statistics are computed whichever windows are
		// rendered: every slice's Frame.Ranges holds them.
		ranges := map[Window][2]float64{WindowCal: {h.CalMin, h.CalMax}}
		if hist == nil {
			hist = make([]uint32, 1<<16)
		} else {
			clear(hist)
		}
		for k := range nz {
			h.codes(codes, vol[k*sliceBytes:(k+1)*sliceBytes])
			// The slice's least and greatest codes, for its min-max
			// range, in the pass that reads every code anyway.
			lo, hi := codes[0], codes[0]
			for _, c := range codes {
				hist[c]++
				lo, hi = min(lo, c), max(hi, c)
			}
			sliceLo[k], sliceHi[k] = lo, hi
		}
		d.codeRanges(hist, int64(nz*rows*cols), ranges)
		for i, w := range d.opts.Windows {
			if r, ok := ranges[w]; ok && w != WindowSliceMinMax {
				fillLUT(luts[i], h, 0, 1<<16-1, r[0], r[1])
			}
		}
		for k := range nz {
			h.codes(codes, vol[k*sliceBytes:(k+1)*sliceBytes])
			clo, chi := sliceLo[k], sliceHi[k]
			a, b := h.codeValue(int(clo)), h.codeValue(int(chi))
			slo, shi := min(a, b), max(a, b)
			f := Frame{Index: t*nz + k, Slice: k, T: t, Images: make([]image.Image, len(d.opts.Windows)),
				Ranges: sliceRanges(h, ranges, slo, shi, true)}
			for i, w := range d.opts.Windows {
				switch w {
				case WindowSliceMinMax:
					fillLUT(luts[i], h, int(clo), int(chi), slo, shi)
				case WindowCal:
					if !(h.CalMax > h.CalMin) {
						continue
					}
				}
				f.Images[i] = renderCodes(codes, luts[i], rows, cols)
			}
			if err := emit(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// codeRanges sets the volume windows' ranges from the histogram of n
// codes. Values grow with codes unless scl_slope is negative.
func (d *decoder) codeRanges(hist []uint32, n int64, ranges map[Window][2]float64) {
	h := d.h
	down := h.SclSlope < 0
	// at returns the value of the 0-based rank, in increasing values.
	at := func(rank int64) float64 {
		if down {
			rank = n - 1 - rank
		}
		var seen int64
		for c, k := range hist {
			seen += int64(k)
			if seen > rank {
				return h.codeValue(c)
			}
		}
		return h.codeValue(len(hist) - 1)
	}
	pct := func(p float64) float64 {
		r := p / 100 * float64(n-1)
		a, b := at(int64(math.Floor(r))), at(int64(math.Ceil(r)))
		return a + (b-a)*(r-math.Floor(r))
	}
	ranges[WindowVolumeMinMax] = [2]float64{at(0), at(n - 1)}
	ranges[WindowPercentile05] = [2]float64{pct(0.5), pct(99.5)}
	ranges[WindowPercentile1] = [2]float64{pct(1), pct(99)}
}

// fillLUT sets the grey of the codes from..to under the window lo..hi, as
// render maps values.
func fillLUT(lut []uint8, h *Header, from, to int, lo, hi float64) {
	if !(hi > lo) {
		clear(lut[from : to+1])
		return
	}
	scale := 255 / (hi - lo)
	for c := from; c <= to; c++ {
		x := (h.codeValue(c) - lo) * scale
		var p uint8
		switch {
		case x >= 255:
			p = 255
		case x > 0:
			p = uint8(x + 0.5)
		}
		lut[c] = p
	}
}

// renderCodes renders a slice of codes through a lookup table, in the
// orientation render uses.
func renderCodes(codes []uint16, lut []uint8, rows, cols int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, cols, rows))
	lut = lut[:1<<16]
	for j := range cols {
		col := codes[j*rows : (j+1)*rows]
		for i, c := range col {
			img.Pix[i*img.Stride+j] = lut[c]
		}
	}
	return img
}
