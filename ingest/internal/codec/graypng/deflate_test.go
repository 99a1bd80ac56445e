package graypng

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"image"
	"image/png"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

// bitWriter writes a deflate stream: fields LSB first, Huffman codes MSB
// first.
type bitWriter struct {
	out   []byte
	acc   uint32
	nbits uint
}

func (w *bitWriter) bits(v uint32, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// code writes a Huffman code of n bits, most significant first.
func (w *bitWriter) code(c uint32, n uint) {
	var r uint32
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(r, n)
}

func (w *bitWriter) flush() []byte {
	if w.nbits > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}

// canonical returns the canonical Huffman codes of the given lengths.
func canonical(lengths []int) []uint32 {
	var count [16]uint32
	for _, l := range lengths {
		if l > 0 {
			count[l]++
		}
	}
	var next [16]uint32
	code := uint32(0)
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lengths))
	for s, l := range lengths {
		if l > 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

// dynamicStream returns a zlib stream of one dynamic-Huffman block
// holding data as literals, with nlit literal/length and ndist distance
// codes declared (nlit up to 288 and ndist up to 32, past what RFC 1951
// allows: 286 and 30).
func dynamicStream(data []byte, nlit, ndist int) []byte {
	// Literal/length codes of 8 and 9 bits, complete (Kraft:
	// (nlit-k)/256 + k/512 = 1 with k nine-bit codes).
	lit := make([]int, nlit)
	k := 2 * (nlit - 256)
	for s := range lit {
		lit[s] = 8
		if s >= nlit-k {
			lit[s] = 9
		}
	}
	dist := make([]int, ndist)
	dist[0] = 1 // one distance code of one bit: allowed by both
	// Precode: the code lengths 0, 1, 8 and 9, each coded in two bits.
	pre := make([]int, 19)
	pre[0], pre[1], pre[8], pre[9] = 2, 2, 2, 2
	preCodes := canonical(pre)
	order := []int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	var w bitWriter
	w.bits(1, 1) // BFINAL
	w.bits(2, 2) // dynamic
	w.bits(uint32(nlit-257), 5)
	w.bits(uint32(ndist-1), 5)
	w.bits(18-4, 4) // HCLEN: up to order index 17 (symbol 1)
	for _, s := range order[:18] {
		w.bits(uint32(pre[s]), 3)
	}
	for _, l := range append(append([]int(nil), lit...), dist...) {
		w.code(preCodes[l], uint(pre[l]))
	}
	codes := canonical(lit)
	for _, b := range data {
		w.code(codes[b], uint(lit[b]))
	}
	w.code(codes[256], uint(lit[256]))
	z := append([]byte{0x78, 0x01}, w.flush()...)
	return binary.BigEndian.AppendUint32(z, adler32.Checksum(data))
}

// fixedStream returns a zlib stream of one fixed-Huffman block holding
// data as literals, then the literal/length symbol sym (286 or 287, which
// RFC 1951 reserves) when sym is non-zero, then end of block.
func fixedStream(data []byte, sym int) []byte {
	lens := make([]int, 288)
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	codes := canonical(lens)
	var w bitWriter
	w.bits(1, 1)
	w.bits(1, 2) // fixed
	for _, b := range data {
		w.code(codes[b], uint(lens[b]))
	}
	if sym != 0 {
		w.code(codes[sym], uint(lens[sym]))
		w.bits(0, 5) // a distance code, for a length symbol
	}
	w.code(codes[256], uint(lens[256]))
	z := append([]byte{0x78, 0x01}, w.flush()...)
	return binary.BigEndian.AppendUint32(z, adler32.Checksum(data))
}

// TestDeflateEdges records how Decode and image/png judge deflate
// streams that RFC 1951 forbids: more literal/length or distance codes
// than the alphabets have (HLIT over 286, HDIST over 30), and the
// reserved symbols 286 and 287. compress/flate refuses them all;
// libdeflate refuses the reserved symbols but accepts the oversized code
// tables when the extra codes are not used, so the libdeflate build
// decodes those streams (into the pixels the stream holds) where
// image/png refuses them: the one case where it accepts what image/png
// refuses (see the package documentation).
func TestDeflateEdges(t *testing.T) {
	const w, h = 7, 3
	rows := make([]byte, h*(w+1))
	for i := range rows {
		if i%(w+1) != 0 {
			rows[i] = byte(i * 37)
		}
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8
	pngOf := func(z []byte) []byte {
		return pngtest.Join([]pngtest.Chunk{{Type: "IHDR", Data: ihdr}, {Type: "IDAT", Data: z}, {Type: "IEND"}})
	}
	lenient := "neither"
	if Inflater == "libdeflate" {
		lenient = "graypng"
	}
	tests := []struct {
		name string
		z    []byte
		want string // "both", "neither", "graypng" (only Decode decodes)
	}{
		{"dynamic, 286 and 30 codes", dynamicStream(rows, 286, 30), "both"},
		{"dynamic, 288 literal/length codes", dynamicStream(rows, 288, 1), lenient},
		{"dynamic, 287 literal/length codes", dynamicStream(rows, 287, 1), lenient},
		{"dynamic, 32 distance codes", dynamicStream(rows, 257, 32), lenient},
		{"dynamic, 31 distance codes", dynamicStream(rows, 257, 31), lenient},
		{"fixed", fixedStream(rows, 0), "both"},
		{"fixed, symbol 286", fixedStream(rows, 286), "neither"},
		{"fixed, symbol 287", fixedStream(rows, 287), "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pngOf(tt.z)
			_, perr := png.Decode(bytes.NewReader(data))
			img, gerr := Decode(data, 1<<20)
			t.Logf("image/png: %v; graypng (%s): %v", perr, Inflater, gerr)
			got := map[[2]bool]string{{true, true}: "both", {false, false}: "neither", {true, false}: "png", {false, true}: "graypng"}[[2]bool{perr == nil, gerr == nil}]
			if got != tt.want {
				t.Errorf("%s decodes, want %s", got, tt.want)
			}
			switch got {
			case "both":
				compareStd(t, data)
			case "graypng":
				// The rows are all filter 0: the pixels are the rest.
				var want []byte
				for y := range h {
					want = append(want, rows[y*(w+1)+1:(y+1)*(w+1)]...)
				}
				if pix := img.(*image.Gray).Pix; !bytes.Equal(pix, want) {
					t.Errorf("pixels % x, want % x", pix, want)
				}
			}
		})
	}
}
