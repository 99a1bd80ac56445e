package jpegbits

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtures returns the JPEG files of the two codecs that use this package:
// real marker layouts and Huffman tables from several encoders.
func fixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	m := map[string][]byte{}
	for _, pat := range []string{"../ljpeg/testdata/*.jpg", "../jpegscale/testdata/*.jpg"} {
		names, err := filepath.Glob(pat)
		if err != nil {
			tb.Fatal(err)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			m[name] = data
		}
	}
	if len(m) == 0 {
		tb.Fatal("no JPEG fixtures found")
	}
	return m
}

// segments walks data and returns the payloads of the segments of marker
// m, failing on any error before EOI.
func segments(tb testing.TB, data []byte, want byte) [][]byte {
	tb.Helper()
	pos, err := Start(data)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for {
		m, next, ok := NextMarker(data, pos)
		pos = next
		if !ok || m == 0xD9 {
			return out
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD8) {
			continue
		}
		seg, next, err := Segment(data, pos, m)
		if err != nil {
			tb.Fatal(err)
		}
		pos = next
		if m == want {
			out = append(out, seg)
		}
	}
}

// refCode is one code of a Huffman table as T.81 annex C assigns it,
// computed here independently of Table.
type refCode struct {
	bits int32
	len  uint
	sym  byte
}

func refCodes(counts *[16]byte, vals []byte) []refCode {
	var out []refCode
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		for range counts[l-1] {
			out = append(out, refCode{code, uint(l), vals[k]})
			code++
			k++
		}
		code <<= 1
	}
	return out
}

// refLookup decodes the code at the top of acc bit by bit.
func refLookup(codes []refCode, acc uint64) (sym int, length uint) {
	for _, c := range codes {
		if int32(acc>>(64-c.len)) == c.bits {
			return int(c.sym), c.len
		}
	}
	return 0, 0
}

// bitWriter writes entropy-coded data MSB first, stuffing a zero byte
// after every 0xFF, as an encoder does.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) write(v uint32, n uint) {
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.byte(byte(w.acc >> w.nacc))
	}
}

func (w *bitWriter) byte(b byte) {
	w.out = append(w.out, b)
	if b == 0xFF {
		w.out = append(w.out, 0)
	}
}

// flush pads the last byte with ones.
func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		pad := 8 - w.nacc
		w.write(1<<pad-1, pad)
	}
	return w.out
}

// Standard tables of T.81 annex K.3: luminance DC (K.3.1) and a table
// with codes of every length 2..16, to exercise the long-code path.
var (
	dcCounts = [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1}
	dcVals   = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}

	longCounts = [16]byte{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}
	longVals   = []byte{0x01, 0x02, 0x03, 0x11, 0x04, 0x12, 0x21, 0x05, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x00, 0xF0}
)

func mustTable(tb testing.TB, counts *[16]byte, vals []byte) *Table {
	tb.Helper()
	t := new(Table)
	if err := t.Build(counts, vals); err != nil {
		tb.Fatal(err)
	}
	return t
}

// dhtSegment encodes one DHT table payload.
func dhtSegment(class, dest byte, counts *[16]byte, vals []byte) []byte {
	seg := append([]byte{class<<4 | dest}, counts[:]...)
	return append(seg, vals...)
}
