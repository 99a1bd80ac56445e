package scan

import (
	"image"
	"image/color"

	"github.com/copycat-dev/copycat/ingest"
)

// The preview is the picture the HTML report shows of an image, so that
// someone can confirm a copy by eye: the fingerprint's 32x32 grey
// thumbnail is too small for that. It keeps the frame's aspect ratio and
// colour, its longest side is at most PreviewSide, and it is JPEG coded at
// previewQuality. On the corpus (TestPreviewSize) that is 1.9 KB per image
// on average (4.2 KB at most), against 4.9 KB as PNG and 2.7 KB for a
// 128 px JPEG, which also costs twice the CPU: a million images add about
// 1.9 GB to an index. Frames that a decoder reduced (Frame.Scale > 1) give
// their preview from the reduced pixels, which may be smaller than
// PreviewSide: a 512x512 JPEG decoded at 1/8 has a 64x64 preview, which
// the report shows enlarged. JPEG data is decoded for its luma only, so
// its previews are grey.
const (
	// PreviewSide is the longest side of a preview, in pixels.
	PreviewSide    = 96
	previewQuality = 75
)

// previewer makes previews; it keeps its buffers between images (one per
// Worker, not safe for concurrent use).
type previewer struct {
	acc []uint32            // sums of one output row, c values per pixel
	cnt []uint32            // sampled source columns per output column
	xs  []int32             // the sampled source columns, left to right
	row []uint8             // the samples of one source row, c values each
	enc *ingest.JPEGEncoder // made on first use: libjpeg-turbo when built in
}

// encode returns the JPEG preview of img, or nil when img is empty or
// cannot be encoded (the report then shows the fingerprint's thumbnail).
func (p *previewer) encode(img image.Image) []byte {
	small := p.reduce(img)
	if small == nil {
		return nil
	}
	if p.enc == nil {
		p.enc = ingest.NewJPEGEncoder()
	}
	data, err := p.enc.Encode(small, previewQuality)
	if err != nil {
		return nil
	}
	return data
}

// maxSamples is how many source rows (and columns) at most are averaged
// per output row (column): 4x4 evenly spaced samples of each output
// pixel's box are a fair low-pass filter for a picture that is only looked
// at, and they keep the cost of a 2048x2048 frame near that of a small one.
const maxSamples = 4

// reduce averages img down to at most PreviewSide on its longest side:
// each output pixel is the mean of up to maxSamples x maxSamples source
// pixels spread evenly over the box it covers. Grey frames give an
// *image.Gray, others an *image.RGBA; 16-bit samples keep their high
// byte, as the fingerprint's thumbnail does.
func (p *previewer) reduce(img image.Image) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	tw, th := w, h
	if s := max(w, h); s > PreviewSide {
		tw, th = max(1, (w*PreviewSide+s/2)/s), max(1, (h*PreviewSide+s/2)/s)
	}
	c := 4 // RGBA, alpha ignored
	var out []uint8
	var dst image.Image
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		c = 1
		g := image.NewGray(image.Rect(0, 0, tw, th))
		out, dst = g.Pix, g
	default:
		m := image.NewRGBA(image.Rect(0, 0, tw, th))
		out, dst = m.Pix, m
	}
	// The sampled columns, in output column order, and how many each
	// output column has.
	p.xs, p.cnt = p.xs[:0], resize(p.cnt, tw)
	for ox := range tw {
		x0, x1 := ox*w/tw, (ox+1)*w/tw
		n := min(x1-x0, maxSamples)
		for i := range n {
			p.xs = append(p.xs, int32(x0+(2*i+1)*(x1-x0)/(2*n)))
		}
		p.cnt[ox] = uint32(n)
	}
	p.acc = resize(p.acc, tw*c)
	p.row = resize(p.row, len(p.xs)*c)
	for oy := range th {
		clear(p.acc)
		y0, y1 := oy*h/th, (oy+1)*h/th
		rows := min(y1-y0, maxSamples)
		for i := range rows {
			row := p.sampleRow(img, b.Min.Y+y0+(2*i+1)*(y1-y0)/(2*rows), c)
			p.accumulate(row, c)
		}
		for ox, n := range p.cnt {
			n *= uint32(rows)
			o, a := out[(oy*tw+ox)*c:], p.acc[ox*c:]
			if c == 1 {
				o[0] = uint8((a[0] + n/2) / n)
				continue
			}
			o[0], o[1], o[2], o[3] = uint8((a[0]+n/2)/n), uint8((a[1]+n/2)/n), uint8((a[2]+n/2)/n), 0xFF
		}
	}
	return dst
}

// accumulate adds the samples of one row to the sums of their output
// columns (p.cnt samples each, in order).
func (p *previewer) accumulate(row []uint8, c int) {
	if c == 1 {
		for ox, n := range p.cnt {
			var sum uint32
			for _, v := range row[:n] {
				sum += uint32(v)
			}
			p.acc[ox] += sum
			row = row[n:]
		}
		return
	}
	for ox, n := range p.cnt {
		var r, g, b uint32
		for px := row[:4*n]; len(px) >= 4; px = px[4:] {
			r += uint32(px[0])
			g += uint32(px[1])
			b += uint32(px[2])
		}
		a := p.acc[4*ox : 4*ox+3]
		a[0] += r
		a[1] += g
		a[2] += b
		row = row[4*n:]
	}
}

// sampleRow returns the pixels of source row y at the columns p.xs, c
// 8-bit values each (grey, or RGBA with the alpha ignored: medical
// pictures are opaque, and the preview is only looked at).
func (p *previewer) sampleRow(img image.Image, y, c int) []uint8 {
	b := img.Bounds()
	row := p.row[:len(p.xs)*c]
	// Every column is sampled when the boxes are at most maxSamples wide
	// (frames up to 4x the preview): rows of 8-bit frames are used as
	// they are.
	every := len(p.xs) == b.Dx()
	switch m := img.(type) {
	case *image.Gray:
		src := m.Pix[m.PixOffset(b.Min.X, y):][:b.Dx()]
		if every {
			return src
		}
		for i, x := range p.xs {
			row[i] = src[x]
		}
	case *image.Gray16:
		src := m.Pix[m.PixOffset(b.Min.X, y):][:2*b.Dx()]
		for i, x := range p.xs {
			row[i] = src[2*x]
		}
	case *image.RGBA:
		return p.sample4(m.Pix[m.PixOffset(b.Min.X, y):][:4*b.Dx()], row, every)
	case *image.NRGBA:
		return p.sample4(m.Pix[m.PixOffset(b.Min.X, y):][:4*b.Dx()], row, every)
	case *image.NRGBA64:
		src := m.Pix[m.PixOffset(b.Min.X, y):][:8*b.Dx()]
		for i, x := range p.xs {
			row[4*i], row[4*i+1], row[4*i+2] = src[8*x], src[8*x+2], src[8*x+4]
		}
	case *image.YCbCr:
		for i, x := range p.xs {
			yi, ci := m.YOffset(b.Min.X+int(x), y), m.COffset(b.Min.X+int(x), y)
			row[4*i], row[4*i+1], row[4*i+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		}
	default:
		for i, x := range p.xs {
			r, g, bl, _ := img.At(b.Min.X+int(x), y).RGBA()
			if c == 1 {
				row[i] = uint8(r >> 8)
				continue
			}
			row[4*i], row[4*i+1], row[4*i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
		}
	}
	return row
}

// resize returns s with length n, reusing its array when it is big enough.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// sample4 samples a row of 4-byte pixels (RGBA or NRGBA) at the columns
// p.xs into row, or returns src itself when every column is sampled.
func (p *previewer) sample4(src, row []uint8, every bool) []uint8 {
	if every {
		return src
	}
	for i, x := range p.xs {
		copy(row[4*i:4*i+4], src[4*x:4*x+4])
	}
	return row
}
