package jpegbits

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// unstuff returns the entropy-coded bytes of data from pos up to the
// marker (or end) that stops them, and where that is: the reference for
// Reader.
func unstuff(data []byte, pos int) (out []byte, stop int) {
	for p := pos; p < len(data); {
		switch {
		case data[p] != 0xFF:
			out = append(out, data[p])
			p++
		case p+1 < len(data) && data[p+1] == 0:
			out = append(out, 0xFF)
			p += 2
		default:
			return out, p
		}
	}
	return out, len(data)
}

// checkReader reads the entropy-coded data at data[pos:] a byte at a time
// and checks the bytes, the zeros fed past them, the truncation slack and
// where the reader stops.
func checkReader(tb testing.TB, data []byte, pos, endSlack int) {
	tb.Helper()
	want, stop := unstuff(data, pos)
	var r Reader
	r.Reset(data, pos, endSlack)
	for i, b := range want {
		if got := r.Bits(8); got != int32(b) {
			tb.Fatalf("byte %d: got 0x%02X, want 0x%02X", i, got, b)
		}
	}
	if err := r.Check(); err != nil {
		tb.Fatalf("Check after the data: %v", err)
	}
	slack := OverrunSlack
	if stop == len(data) {
		slack = endSlack
	}
	for i := range slack {
		if r.Bit() {
			tb.Fatalf("invented bit %d is 1", i)
		}
	}
	if err := r.Check(); err != nil {
		tb.Fatalf("Check after %d invented bits: %v", slack, err)
	}
	r.Bit()
	if err := r.Check(); !errors.Is(err, ErrTruncated) {
		tb.Fatalf("Check after %d invented bits = %v, want ErrTruncated", slack+1, err)
	}
	if r.Pos() != stop {
		tb.Fatalf("Pos = %d, want %d", r.Pos(), stop)
	}
}

func TestReader(t *testing.T) {
	long := make([]byte, 40)
	for i := range long {
		long[i] = byte(i*37 + 1)
	}
	tests := []struct {
		name     string
		data     []byte
		pos      int
		endSlack int
	}{
		{"empty", nil, 0, OverrunSlack},
		{"plain, ends", []byte{1, 2, 3}, 0, OverrunSlack},
		{"plain, ends, strict", []byte{1, 2, 3}, 0, 0},
		{"plain then EOI", []byte{1, 2, 3, 0xFF, 0xD9}, 0, 0},
		{"stuffed", []byte{0xFF, 0x00, 0x12, 0xFF, 0x00, 0xFF, 0xD9}, 0, OverrunSlack},
		{"fill bytes before marker", []byte{0x12, 0xFF, 0xFF, 0xFF, 0xD9}, 0, OverrunSlack},
		{"RST stops it", []byte{0x12, 0x34, 0xFF, 0xD0, 0x56}, 0, OverrunSlack},
		{"0xFF at the very end", []byte{0x12, 0xFF}, 0, OverrunSlack},
		{"from pos", []byte{0xFF, 0xDA, 0x77, 0x88}, 2, OverrunSlack},
		{"long, fast path", long, 0, 0},
		{"long with stuffing", append(append(long[:9:9], 0xFF, 0), long...), 0, OverrunSlack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkReader(t, tt.data, tt.pos, tt.endSlack)
		})
	}
}

func TestReaderBits(t *testing.T) {
	// 0xA5 0xFF(stuffed) 0x0F: 10100101 11111111 00001111
	data := []byte{0xA5, 0xFF, 0x00, 0x0F, 0xFF, 0xD9}
	tests := []struct {
		name string
		read func(r *Reader) int32
		want int32
	}{
		{"0 bits", func(r *Reader) int32 { return r.Bits(0) }, 0},
		{"1 bit", func(r *Reader) int32 { return r.Bits(1) }, 1},
		{"Bit", func(r *Reader) int32 {
			if r.Bit() {
				return 1
			}
			return 0
		}, 1},
		{"16 bits across the stuffed byte", func(r *Reader) int32 { return r.Bits(16) }, 0xA5FF},
		{"Receive 3: 101 is 5", func(r *Reader) int32 { r.Fill(); return r.Receive(3) }, 5},
		{"Receive 4: 1010 is 10", func(r *Reader) int32 { r.Fill(); return r.Receive(4) }, 10},
		{"Receive 2: 10 is 2", func(r *Reader) int32 { r.Fill(); return r.Receive(2) }, 2},
		{"Receive 0", func(r *Reader) int32 { r.Fill(); return r.Receive(0) }, 0},
		{"Receive 1 of a 0 bit", func(r *Reader) int32 { r.Fill(); r.Bits(1); return r.Receive(1) }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reader
			r.Reset(data, 0, OverrunSlack)
			if got := tt.read(&r); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		n       int
		wantErr bool
		wantPos int
	}{
		{"RST0", []byte{0xAB, 0xFF, 0xD0, 0x12}, 0, false, 3},
		{"RST7 for the 15th", []byte{0xAB, 0xFF, 0xD7, 0x12}, 15, false, 3},
		{"fill bytes first", []byte{0xAB, 0xFF, 0xFF, 0xD1, 0x12}, 1, false, 4},
		{"wrong number", []byte{0xAB, 0xFF, 0xD2, 0x12}, 1, true, 0},
		{"EOI instead", []byte{0xAB, 0xFF, 0xD9}, 0, true, 0},
		{"no marker", []byte{0xAB, 0xCD}, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reader
			r.Reset(tt.data, 0, OverrunSlack)
			if got := r.Bits(8); got != int32(tt.data[0]) {
				t.Fatalf("first byte 0x%02X", got)
			}
			err := r.Restart(tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Restart error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Pos() != tt.wantPos || r.N() != 0 {
				t.Errorf("after Restart: pos %d, %d bits buffered; want %d, 0", r.Pos(), r.N(), tt.wantPos)
			}
			if got := r.Bits(8); got != 0x12 {
				t.Errorf("byte after the marker 0x%02X, want 0x12", got)
			}
			if err := r.Check(); err != nil {
				t.Errorf("Check after Restart: %v", err)
			}
		})
	}
}

func TestRestartReportsTruncation(t *testing.T) {
	var r Reader
	r.Reset([]byte{0xAB}, 0, 0)
	r.Bits(9)
	if err := r.Restart(0); !errors.Is(err, ErrTruncated) {
		t.Errorf("Restart = %v, want ErrTruncated", err)
	}
}

// encodeSymbols returns count symbols of t, drawn with the probabilities
// its code lengths imply (2^-length, the distribution a Huffman code is
// built for), each followed by the magnitude bits of its low nibble, and
// the entropy-coded data that codes them, stuffed and padded.
func encodeSymbols(codes []refCode, count int, seed uint64) (syms []refCode, data []byte) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var w bitWriter
	for len(syms) < count {
		// The code at the top of uniformly random bits has exactly the
		// implied probability.
		acc := rng.Uint64()
		s, l := refLookup(codes, acc)
		if l == 0 {
			continue // no code there: draw again
		}
		c := refCode{int32(acc >> (64 - l)), l, byte(s)}
		syms = append(syms, c)
		w.write(uint32(c.bits), c.len)
		w.write(uint32(rng.Uint64()), uint(s&15))
	}
	return syms, w.flush()
}

// TestDecodeStream decodes a long random stream of symbols and magnitude
// bits, as both codecs' loops do, and compares with what was encoded.
func TestDecodeStream(t *testing.T) {
	tests := []struct {
		name   string
		counts *[16]byte
		vals   []byte
	}{
		{"dc luminance", &dcCounts, dcVals},
		{"long codes", &longCounts, longVals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustTable(t, tt.counts, tt.vals)
			syms, data := encodeSymbols(refCodes(tt.counts, tt.vals), 5000, 7)
			data = append(data, 0xFF, 0xD9)
			// Decode and Receive, filling below 32 bits (ljpeg's loop).
			var r Reader
			r.Reset(data, 0, 0)
			for i, c := range syms {
				if r.N() < 32 {
					r.Fill()
				}
				if s := r.Decode(tab); s != int(c.sym) {
					t.Fatalf("Decode: symbol %d is %d, want %d", i, s, c.sym)
				}
				r.Receive(uint(c.sym & 15))
			}
			if err := r.Check(); err != nil {
				t.Fatal(err)
			}
			// Lookup on a buffer kept in locals (jpegscale's loops).
			r.Reset(data, 0, 0)
			acc, n := r.Acc()
			for i, c := range syms {
				if n < 32 {
					acc, n = r.Refill(acc, n)
				}
				s, l := tab.Lookup(acc)
				if s != int(c.sym) || l != c.len {
					t.Fatalf("Lookup: symbol %d is %d (%d bits), want %d (%d bits)", i, s, l, c.sym, c.len)
				}
				l += uint(s & 15)
				acc <<= l
				n -= l
			}
			r.SetAcc(acc, n)
			if err := r.Check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
