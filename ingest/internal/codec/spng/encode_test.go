package spng

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// pngSpec describes a PNG for encodePNG: image/png's encoder writes only a
// few of the colour type, bit depth, tRNS and interlace combinations the
// tests need.
type pngSpec struct {
	w, h      int
	depth, ct int
	interlace bool
	filter    int      // 0-4 for every row, or -1 to cycle through them
	samples   []uint16 // h*w*channels samples, row-major, each < 1<<depth
	plte      []byte   // PLTE payload, written when non-nil
	trns      []byte   // tRNS payload, written when non-nil
}

// channels returns the samples per pixel of a PNG colour type.
func channels(ct int) int {
	return [7]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
}

// randomSpec fills a spec with random samples, a palette of np entries for
// colour type 3, and no tRNS.
func randomSpec(rng *rand.Rand, w, h, depth, ct int) pngSpec {
	s := pngSpec{w: w, h: h, depth: depth, ct: ct}
	n := w * h * channels(ct)
	s.samples = make([]uint16, n)
	for i := range s.samples {
		s.samples[i] = uint16(rng.IntN(1 << depth))
	}
	if ct == 3 {
		s.plte = make([]byte, 3<<depth)
		for i := range s.plte {
			s.plte[i] = byte(rng.IntN(256))
		}
	}
	return s
}

// adam7 lists the passes of Adam7 interlacing: x0, y0, dx, dy.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// encodePNG writes s as a PNG: zlib-compressed IDAT split over chunks of
// at most 8 KiB, filtered as s.filter says.
func encodePNG(tb testing.TB, s pngSpec) []byte {
	tb.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(s.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(s.h))
	ihdr[8], ihdr[9] = byte(s.depth), byte(s.ct)
	if s.interlace {
		ihdr[12] = 1
	}
	writeChunk(&out, "IHDR", ihdr)
	if s.plte != nil {
		writeChunk(&out, "PLTE", s.plte)
	}
	if s.trns != nil {
		writeChunk(&out, "tRNS", s.trns)
	}
	var raw bytes.Buffer
	passes := [][4]int{{0, 0, 1, 1}}
	if s.interlace {
		passes = adam7[:]
	}
	ch := channels(s.ct)
	bpp := max(1, s.depth*ch/8) // filter distance in bytes
	row := 0
	for _, p := range passes {
		var prev []byte
		for y := p[1]; y < s.h; y += p[3] {
			var bits []uint16
			for x := p[0]; x < s.w; x += p[2] {
				bits = append(bits, s.samples[(y*s.w+x)*ch:(y*s.w+x+1)*ch]...)
			}
			if len(bits) == 0 {
				break
			}
			cur := pack(bits, s.depth)
			if prev == nil {
				prev = make([]byte, len(cur))
			}
			f := s.filter
			if f < 0 {
				f = row % 5
			}
			row++
			raw.WriteByte(byte(f))
			raw.Write(filterRow(f, cur, prev, bpp))
			prev = cur
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	for b := z.Bytes(); len(b) > 0; {
		n := min(len(b), 8192)
		writeChunk(&out, "IDAT", b[:n])
		b = b[n:]
	}
	writeChunk(&out, "IEND", nil)
	return out.Bytes()
}

// pack packs samples of depth bits, big-endian, into a row of bytes.
func pack(samples []uint16, depth int) []byte {
	if depth == 16 {
		b := make([]byte, 2*len(samples))
		for i, v := range samples {
			binary.BigEndian.PutUint16(b[2*i:], v)
		}
		return b
	}
	b := make([]byte, (len(samples)*depth+7)/8)
	for i, v := range samples {
		bit := i * depth
		b[bit/8] |= byte(v) << (8 - depth - bit%8)
	}
	return b
}

// filterRow applies PNG filter f to cur given the previous row.
func filterRow(f int, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur))
	for i := range cur {
		var a, b, c byte
		if i >= bpp {
			a, c = cur[i-bpp], prev[i-bpp]
		}
		b = prev[i]
		var pred byte
		switch f {
		case 1:
			pred = a
		case 2:
			pred = b
		case 3:
			pred = byte((int(a) + int(b)) / 2)
		case 4:
			pred = paeth(a, b, c)
		}
		out[i] = cur[i] - pred
	}
	return out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func writeChunk(w *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	w.Write(n[:])
	w.WriteString(typ)
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	w.Write(n[:])
}
