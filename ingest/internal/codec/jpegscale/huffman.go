package jpegscale

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Entropy-coded data errors. They describe bad data, so they are plain
// errors: the caller reports them as corrupt input.
var (
	errBadCode   = errors.New("jpegscale: invalid Huffman code")
	errTruncated = errors.New("jpegscale: entropy-coded data ends early")
)

// overrunSlack is how many zero bits past the end of a segment a scan may
// consume before it counts as truncated. A conforming encoder needs none;
// one byte's worth accepts an encoder that forgot to flush its last partial
// byte, while a real truncation is reported rather than decoded from
// invented zeros (the same rule as package ljpeg).
const overrunSlack = 8

// bitReader reads the entropy-coded segment of a scan, MSB first, undoing
// byte stuffing (0xFF00 -> 0xFF). At a marker, or at the end of the data, it
// stops and feeds zeros instead, as JPEG decoders traditionally do, and
// counts them so that overrun can tell a complete stream from a truncated
// one.
//
// The hot loops copy acc and n into locals and call fill through refill;
// keeping them in registers is most of what makes the decoder fast.
type bitReader struct {
	data     []byte
	pos      int    // next byte of data to read
	acc      uint64 // unread bits, left-aligned; bits past n are zero
	n        uint   // number of unread bits in acc
	atMarker bool   // pos is at a marker (or the end): fill with zeros
	atEnd    bool   // ... and that is the end of the data, not a marker
	pad      int    // zero bytes fed since the marker
	err      error  // first entropy-decoding error; sticky
}

func (r *bitReader) reset(data []byte, pos int) {
	*r = bitReader{data: data, pos: pos}
}

// fill tops the buffer up to at least 57 bits.
func (r *bitReader) fill() {
	// Fast path: eight bytes without 0xFF (no stuffing, no marker) are
	// loaded at once, as many whole bytes as fit.
	if !r.atMarker && r.pos+8 <= len(r.data) {
		w := binary.BigEndian.Uint64(r.data[r.pos:])
		if !hasFF(w) {
			k := (64 - r.n) >> 3 // whole bytes that fit, >= 1 since n <= 56
			nb := k * 8
			r.acc |= w >> (64 - nb) << (64 - nb - r.n)
			r.n += nb
			r.pos += int(k)
			if r.n > 56 {
				return
			}
		}
	}
	for r.n <= 56 {
		var b byte
		switch {
		case r.atMarker:
			r.pad++
		case r.pos >= len(r.data):
			r.atMarker, r.atEnd = true, true
			r.pad++
		default:
			b = r.data[r.pos]
			if b != 0xFF {
				r.pos++
			} else if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0 {
				r.pos += 2 // stuffed byte
			} else {
				// A marker (or fill bytes in front of one): the segment
				// ends here and pos stays on it for the caller.
				r.atMarker = true
				r.pad++
				b = 0
			}
		}
		r.acc |= uint64(b) << (56 - r.n)
		r.n += 8
	}
}

// hasFF reports whether any byte of w is 0xFF.
func hasFF(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	v := ^w // 0xFF bytes become zero bytes
	return (v-lo)&^v&hi != 0
}

// overrun reports whether the decoder has consumed more invented zero bits
// than overrunSlack allows. When the data simply stops (no marker, so no
// EOI either) no invented bit is allowed: an encoder pads its last byte
// with ones, so a stream that ends without EOI and still needs bits has
// lost its tail, even when the zeros happen to decode (a last chroma
// block's DC 0 and end-of-block codes take four zero bits).
func (r *bitReader) overrun() bool {
	if r.atEnd {
		return r.pad*8 > int(r.n)
	}
	return r.pad*8 > int(r.n)+overrunSlack
}

// check returns the sticky error, or errTruncated after an overrun.
func (r *bitReader) check() error {
	if r.err != nil {
		return r.err
	}
	if r.overrun() {
		return errTruncated
	}
	return nil
}

// bits reads t bits (0 <= t <= 16) as an unsigned number, filling first
// when needed.
func (r *bitReader) bits(t uint) int32 {
	if t == 0 {
		return 0
	}
	if r.n < t {
		r.fill()
	}
	v := int32(r.acc >> (64 - t))
	r.acc <<= t
	r.n -= t
	return v
}

// bit reads one bit.
func (r *bitReader) bit() bool {
	if r.n == 0 {
		r.fill()
	}
	r.n--
	a := r.acc
	r.acc = a << 1
	return int64(a) < 0
}

// extend turns the t-bit magnitude category value v into the signed
// value it codes (T.81 figure F.12). t == 0 codes zero.
func extend(v int32, t uint) int32 {
	if t == 0 {
		return 0
	}
	if v < 1<<(t-1) {
		return v - (1 << t) + 1
	}
	return v
}

// restart ends a restart interval: it drops the buffered bits (padding of
// the interval's last byte) and consumes the RSTn marker that must follow.
func (r *bitReader) restart(n int) error {
	if err := r.check(); err != nil {
		return err
	}
	r.acc, r.n = 0, 0
	// Skip anything left before the marker; a conforming stream has nothing,
	// but fill bytes (0xFF runs) are allowed in front of any marker.
	p := r.pos
	for p+1 < len(r.data) && !(r.data[p] == 0xFF && r.data[p+1] != 0 && r.data[p+1] != 0xFF) {
		p++
	}
	want := byte(0xD0 + n%8)
	if p+1 >= len(r.data) || r.data[p+1] != want {
		return fmt.Errorf("jpegscale: expected RST%d marker at offset %d", n%8, p)
	}
	r.pos = p + 2
	r.atMarker = false
	r.pad = 0
	return nil
}

// lutBits is the width of the Huffman lookup tables. Nearly all codes in
// real streams are at most 10 bits long, and most AC code+magnitude pairs
// fit too, so one table read decodes a coefficient.
const lutBits = 10

// Fast-table entries pack, for the lutBits-bit prefix that indexes them:
// bits 0-4 the number of bits the entry consumes, bits 8-15 the zero run
// (or fastEOB), bits 16-31 the signed coefficient value. Zero means "take
// the slow path".
const (
	fastEOB     = 0x40
	fastLenMask = 0x1F
)

// huffTable is a decoding table built from a DHT segment.
type huffTable struct {
	defined bool
	ac      bool                 // AC table: symbol 0x00 is end-of-block
	sym     [1 << lutBits]uint16 // code prefix -> length<<8 | symbol; 0 if longer than lutBits
	fast    [1 << lutBits]int32  // code+magnitude prefix -> packed entry; see fastEOB
	maxcode [17]int32            // largest code of each length, -1 if none
	valptr  [17]int32            // vals index of a length's codes, minus its first code
	vals    [256]byte
}

// build fills t from the 16 code-length counts and the symbol values of a
// DHT table (T.81 annex C), rejecting counts that do not form a prefix code.
func (t *huffTable) build(counts *[16]byte, vals []byte, ac bool) error {
	t.defined, t.ac = false, ac
	t.sym = [1 << lutBits]uint16{}
	t.fast = [1 << lutBits]int32{}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		// The codes of length l must fit in l bits. (T.81 reserves the
		// all-ones code, but encoders that use it exist and libjpeg accepts
		// them, so this check does too.)
		if code+c > 1<<l {
			return errors.New("jpegscale: Huffman table has too many codes")
		}
		t.valptr[l] = k - code
		if c == 0 {
			t.maxcode[l] = -1
		} else {
			t.maxcode[l] = code + c - 1
		}
		if l <= lutBits {
			shift := uint(lutBits - l)
			for i := int32(0); i < c; i++ {
				s := vals[k+i]
				lo := (code + i) << shift
				for j := int32(0); j < 1<<shift; j++ {
					t.sym[lo+j] = uint16(l)<<8 | uint16(s)
				}
				t.fillFast(code+i, uint(l), s)
			}
		}
		code += c
		k += c
		code <<= 1
	}
	t.defined = true
	return nil
}

// fillFast adds the fast entries of one code of length l for symbol s: one
// per value of the magnitude bits that follow when code and magnitude fit
// in lutBits together.
func (t *huffTable) fillFast(code int32, l uint, s byte) {
	run, size := uint(s>>4), uint(s&15)
	if !t.ac {
		run, size = 0, uint(s) // DC: the symbol is the magnitude category
		if size > 15 {
			return
		}
	}
	shift := lutBits - l
	switch {
	case t.ac && s == 0x00:
		// End of block: no magnitude bits.
		e := int32(l) | fastEOB<<8
		for j := int32(0); j < 1<<shift; j++ {
			t.fast[code<<shift|j] = e
		}
	case t.ac && size == 0:
		// ZRL and (progressive) EOB runs: slow path.
	case l+size <= lutBits:
		rest := shift - size // prefix bits after code and magnitude
		for m := int32(0); m < 1<<size; m++ {
			v := extend(m, size)
			e := int32(l+size) | int32(run)<<8 | v<<16
			base := (code<<size | m) << rest
			for j := int32(0); j < 1<<rest; j++ {
				t.fast[base|j] = e
			}
		}
	}
}

// decodeSlow decodes a symbol whose code is longer than lutBits (or any
// code, when called on a prefix the tables do not cover). acc holds at
// least 16 valid bits. It returns the symbol and its code length, or
// length 0 for an invalid code.
func (t *huffTable) decodeSlow(acc uint64) (sym int, length uint) {
	if e := t.sym[acc>>(64-lutBits)]; e != 0 {
		return int(e & 0xFF), uint(e >> 8)
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(acc >> (64 - l))
		if code <= t.maxcode[l] {
			return int(t.vals[(code+t.valptr[l])&0xFF]), l
		}
	}
	return 0, 0
}

// decodeSym reads one Huffman-coded symbol. On an invalid code it records
// errBadCode and returns 0 (which ends a block); callers check r.err once
// per MCU row.
func (r *bitReader) decodeSym(t *huffTable) int {
	if r.n < 16 {
		r.fill()
	}
	s, l := t.decodeSlow(r.acc)
	if l == 0 {
		if r.err == nil {
			r.err = errBadCode
		}
		return 0
	}
	r.acc <<= l
	r.n -= l
	return s
}
