package ljpeg

import (
	"errors"
	"fmt"
)

// Entropy-coded data errors. They describe bad data, so they are plain
// errors: the caller reports them as corrupt input.
var (
	errBadCode   = errors.New("ljpeg: invalid Huffman code")
	errTruncated = errors.New("ljpeg: entropy-coded data ends early")
)

// overrunSlack is how many zero bits past the end of a segment a scan may
// consume before it counts as truncated. A conforming encoder needs none;
// one byte's worth accepts an encoder that forgot to flush its last partial
// byte, while any real truncation is reported rather than decoded from
// invented zeros.
const overrunSlack = 8

// bitReader reads the entropy-coded segment of a scan, MSB first, undoing
// byte stuffing (0xFF00 -> 0xFF). At a marker, or at the end of the data, it
// stops and feeds zeros instead, as JPEG decoders traditionally do, and
// counts them so that overrun can tell a complete stream from a truncated
// one.
type bitReader struct {
	data     []byte
	pos      int    // next byte of data to read
	acc      uint64 // unread bits, left-aligned
	n        uint   // number of unread bits in acc
	atMarker bool   // pos is at a marker (or the end): fill with zeros
	pad      int    // zero bytes fed since the marker
	err      error  // first entropy-decoding error; sticky
}

// fill tops the buffer up to more than 56 bits.
func (r *bitReader) fill() {
	for r.n <= 56 {
		var b byte
		switch {
		case r.atMarker:
			r.pad++
		case r.pos+8 <= len(r.data) && r.n <= 24 && noFF(r.data[r.pos:r.pos+4]):
			// Fast path: four plain bytes at once.
			w := uint64(r.data[r.pos])<<24 | uint64(r.data[r.pos+1])<<16 |
				uint64(r.data[r.pos+2])<<8 | uint64(r.data[r.pos+3])
			r.acc |= w << (32 - r.n)
			r.n += 32
			r.pos += 4
			continue
		case r.pos >= len(r.data):
			r.atMarker = true
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

func noFF(b []byte) bool {
	return b[0] != 0xFF && b[1] != 0xFF && b[2] != 0xFF && b[3] != 0xFF
}

// overrun reports whether the decoder has consumed more invented zero bits
// than overrunSlack allows.
func (r *bitReader) overrun() bool {
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

// receive reads t bits (1 <= t <= 16) as an unsigned number. The caller
// has made sure that at least t bits are buffered.
func (r *bitReader) receive(t uint) int32 {
	v := int32(r.acc >> (64 - t))
	r.acc <<= t
	r.n -= t
	return v
}

// extend turns the t-bit magnitude category value v into the signed
// difference it codes (T.81 figure F.12).
func extend(v int32, t uint) int32 {
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
	// Skip anything left before the marker; a conforming stream has nothing.
	p := r.pos
	for p+1 < len(r.data) && !(r.data[p] == 0xFF && r.data[p+1] != 0 && r.data[p+1] != 0xFF) {
		p++
	}
	want := byte(0xD0 + n%8)
	if p+1 >= len(r.data) || r.data[p+1] != want {
		return fmt.Errorf("ljpeg: expected RST%d marker at offset %d", n%8, p)
	}
	r.pos = p + 2
	r.atMarker = false
	r.pad = 0
	return nil
}

// lutBits is the width of the Huffman lookup table: most codes in real
// streams are at most 9 bits long and decode with one table read.
const lutBits = 9

// huffTable is a decoding table built from a DHT segment.
type huffTable struct {
	lut     [1 << lutBits]uint16 // code prefix -> length<<8 | value; 0 if longer than lutBits
	maxcode [17]int32            // largest code of each length, -1 if none
	valptr  [17]int32            // vals index of a length's codes, minus its first code
	vals    [256]byte
	nvals   int
	dlut    *[1 << diffLUTBits]int32 // lossless only: see buildDiffLUT
}

// build fills t from the 16 code-length counts and the symbol values of a
// DHT table (T.81 annex C), rejecting counts that do not form a prefix code.
func (t *huffTable) build(counts *[16]byte, vals []byte) error {
	*t = huffTable{}
	t.nvals = copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		// The codes of length l must fit in l bits. (T.81 reserves the
		// all-ones code, but encoders that use it exist and libjpeg accepts
		// them, so this check does too.)
		if code+c > 1<<l {
			return errors.New("ljpeg: Huffman table has too many codes")
		}
		t.valptr[l] = k - code
		if c == 0 {
			t.maxcode[l] = -1
		} else {
			t.maxcode[l] = code + c - 1
		}
		if l <= lutBits {
			for i := int32(0); i < c; i++ {
				// Every lutBits-bit prefix that starts with this code maps to it.
				shift := uint(lutBits - l)
				lo := (code + i) << shift
				for j := int32(0); j < 1<<shift; j++ {
					t.lut[lo+j] = uint16(l)<<8 | uint16(vals[k+i])
				}
			}
		}
		code += c
		k += c
		code <<= 1
	}
	return nil
}

// decode reads one Huffman-coded symbol. On an invalid code it records
// errBadCode and returns 0; callers check r.err once per row.
func (r *bitReader) decode(t *huffTable) int {
	if r.n < 16 {
		r.fill()
	}
	if e := t.lut[r.acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		r.acc <<= l
		r.n -= l
		return int(e & 0xFF)
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(r.acc >> (64 - l))
		if code <= t.maxcode[l] {
			r.acc <<= l
			r.n -= l
			return int(t.vals[code+t.valptr[l]])
		}
	}
	if r.err == nil {
		r.err = errBadCode
	}
	return 0
}
