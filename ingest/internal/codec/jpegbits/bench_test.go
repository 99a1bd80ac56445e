package jpegbits

import (
	"path/filepath"
	"testing"
)

// benchTable returns a real AC table (the first in the baseline 4:2:0
// fixture) and 200000 symbols coded with it, with their magnitude bits.
func benchTable(b *testing.B) (*Table, []refCode, []byte) {
	b.Helper()
	data := fixtures(b)[filepath.Join("..", "jpegscale", "testdata", "v420.jpg")]
	for _, seg := range segments(b, data, 0xC4) {
		for h, err := range ParseDHT(seg) {
			if err != nil {
				b.Fatal(err)
			}
			if h.Class == 1 {
				syms, coded := encodeSymbols(refCodes(h.Counts, h.Values), 200000, 1)
				return mustTable(b, h.Counts, h.Values), syms, append(coded, 0xFF, 0xD9)
			}
		}
	}
	b.Fatal("no AC table")
	return nil, nil, nil
}

// BenchmarkDecode decodes a stream of AC symbols and their magnitude bits
// the two ways the codecs do: with Decode and Receive (ljpeg), and with
// Lookup on a bit buffer kept in locals (jpegscale). SetBytes counts the
// entropy-coded bytes.
func BenchmarkDecode(b *testing.B) {
	tab, syms, data := benchTable(b)
	b.Run("Decode+Receive", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var r Reader
		var sum int32
		for b.Loop() {
			r.Reset(data, 0, OverrunSlack)
			for range syms {
				if r.N() < 32 {
					r.Fill()
				}
				s := r.Decode(tab)
				sum += r.Receive(uint(s & 15))
			}
			if err := r.Check(); err != nil {
				b.Fatal(err)
			}
		}
		_ = sum
	})
	b.Run("Lookup_locals", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var r Reader
		var sum int32
		for b.Loop() {
			r.Reset(data, 0, OverrunSlack)
			acc, n := r.Acc()
			for range syms {
				if n < 32 {
					acc, n = r.Refill(acc, n)
				}
				s, l := tab.Lookup(acc)
				size := uint(s & 15)
				sum += Extend(int32(acc<<l>>(64-size)), size)
				acc <<= l + size
				n -= l + size
			}
			r.SetAcc(acc, n)
			if err := r.Check(); err != nil {
				b.Fatal(err)
			}
		}
		_ = sum
	})
}

// BenchmarkBits reads the same stream eight bits at a time: the fill
// path, stuffed bytes included.
func BenchmarkBits(b *testing.B) {
	_, _, data := benchTable(b)
	want, _ := unstuff(data, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var r Reader
	var sum int32
	for b.Loop() {
		r.Reset(data, 0, OverrunSlack)
		for range want {
			sum += r.Bits(8)
		}
	}
	_ = sum
}
