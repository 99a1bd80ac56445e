package jpegbits

import "iter"

// LUTBits is the width of a Table's lookup: a code of at most LUTBits bits
// decodes with one table read. Nearly all codes in real streams are that
// short (ten bits, as in jpegscale before this package existed; ljpeg used
// nine).
const LUTBits = 10

// DHT describes one Huffman table of a DHT segment (T.81 B.2.4.2).
type DHT struct {
	Class  int       // 0: DC or lossless table, 1: AC table
	Dest   int       // destination 0..3 that scans select it by
	Counts *[16]byte // number of codes of each length 1..16
	Values []byte    // the symbols, in code order; aliases the segment
}

// ParseDHT returns the tables of a DHT segment's payload in order. It
// checks the segment's structure (class, destination, lengths); Table.Build
// checks that each table is a prefix code. The iteration stops at the
// first error, which it yields with a zero DHT.
func ParseDHT(seg []byte) iter.Seq2[DHT, error] {
	return func(yield func(DHT, error) bool) {
		for len(seg) > 0 {
			if len(seg) < 17 {
				yield(DHT{}, errorf("DHT segment truncated"))
				return
			}
			tc, th := int(seg[0]>>4), int(seg[0]&15)
			if tc > 1 || th > 3 {
				yield(DHT{}, errorf("DHT class %d destination %d out of range", tc, th))
				return
			}
			counts := (*[16]byte)(seg[1:17])
			n := 0
			for _, c := range counts {
				n += int(c)
			}
			if n > 256 || len(seg) < 17+n {
				yield(DHT{}, errorf("DHT table with %d codes truncated or too long", n))
				return
			}
			if !yield(DHT{Class: tc, Dest: th, Counts: counts, Values: seg[17 : 17+n]}, nil) {
				return
			}
			seg = seg[17+n:]
		}
	}
}

// Table is a Huffman decoding table built from a DHT table (T.81 annex C).
// Only a Table that Build has filled without error decodes anything
// meaningful; the codecs track which of theirs are defined.
type Table struct {
	lut     [1 << LUTBits]uint16 // code prefix -> length<<8 | symbol; 0 if longer than LUTBits
	maxcode [17]int32            // largest code of each length, -1 if none
	valptr  [17]int32            // vals index of a length's codes, minus its first code
	counts  [17]byte             // number of codes of each length
	vals    [256]byte
}

// Build fills t from the 16 code-length counts and the symbol values of a
// DHT table, rejecting counts that do not form a prefix code (t is then
// unusable). vals must
// hold at least as many symbols as counts add up to (ParseDHT ensures it).
func (t *Table) Build(counts *[16]byte, vals []byte) error {
	*t = Table{}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		// The codes of length l must fit in l bits. (T.81 reserves the
		// all-ones code, but encoders that use it exist and libjpeg accepts
		// them, so this check does too.)
		if code+c > 1<<l {
			return errorf("Huffman table has too many codes")
		}
		t.counts[l] = byte(c)
		t.valptr[l] = k - code
		if c == 0 {
			t.maxcode[l] = -1
		} else {
			t.maxcode[l] = code + c - 1
		}
		if l <= LUTBits {
			// Every LUTBits-bit prefix that starts with a code maps to it.
			shift := uint(LUTBits - l)
			for i := int32(0); i < c; i++ {
				lo := (code + i) << shift
				e := uint16(l)<<8 | uint16(vals[k+i])
				for j := int32(0); j < 1<<shift; j++ {
					t.lut[lo+j] = e
				}
			}
		}
		code += c
		k += c
		code <<= 1
	}
	return nil
}

// Code is one code of a Table: the Len low bits of Bits, and the symbol
// it stands for.
type Code struct {
	Bits int32
	Len  uint
	Sym  byte
}

// Codes returns t's codes in canonical order (by length, then value), for
// codecs that build their own wider tables on top of t, such as a lookup
// of a code together with the magnitude bits that follow it.
func (t *Table) Codes() iter.Seq[Code] {
	return func(yield func(Code) bool) {
		code, k := int32(0), 0
		for l := 1; l <= 16; l++ {
			for range t.counts[l] {
				if !yield(Code{Bits: code, Len: uint(l), Sym: t.vals[k]}) {
					return
				}
				code++
				k++
			}
			code <<= 1
		}
	}
}

// Lookup decodes the symbol whose code starts acc (left-aligned; at least
// 16 bits valid, or zeros past the end) without consuming it. It returns
// the symbol and the code's length, or length 0 for an invalid code. It is
// small enough to inline into a codec's own decoding loop.
func (t *Table) Lookup(acc uint64) (sym int, length uint) {
	if e := t.lut[acc>>(64-LUTBits)]; e != 0 {
		return int(e & 0xFF), uint(e >> 8)
	}
	// Longer codes: T.81 F.2.2.3.
	for l := uint(LUTBits + 1); l <= 16; l++ {
		code := int32(acc >> (64 - l))
		if code <= t.maxcode[l] {
			return int(t.vals[(code+t.valptr[l])&0xFF]), l
		}
	}
	return 0, 0
}
