package jpegbits

import "encoding/binary"

// OverrunSlack is how many zero bits past the end of a scan's data a
// decoder may consume before the scan counts as truncated. A conforming
// encoder needs none; one byte's worth accepts an encoder that forgot to
// flush its last partial byte, while a real truncation is reported rather
// than decoded from invented zeros.
const OverrunSlack = 8

// Reader reads the entropy-coded segment of a scan, MSB first, undoing
// byte stuffing (0xFF00 -> 0xFF). At a marker, or at the end of the data,
// it stops and feeds zeros instead, as JPEG decoders traditionally do, and
// counts them so that Check can tell a complete stream from a truncated
// one. The zero value reads nothing; Reset starts it on a scan.
//
// Receive, Skip, Peek, N, Check and the buffer accessors inline; Decode,
// Bits and Bit make one call (to fill, when the buffer runs low), as the
// codecs' own readers did. A hot loop can do better still by keeping the
// bit buffer in locals: Acc, Refill and SetAcc move it in and out.
type Reader struct {
	data     []byte
	pos      int    // next byte of data to read
	acc      uint64 // unread bits, left-aligned; bits past n are zero
	n        uint   // number of unread bits in acc
	atMarker bool   // pos is at a marker (or the end): fill with zeros
	atEnd    bool   // ... and that is the end of the data, not a marker
	pad      int    // zero bytes fed since the marker
	endSlack int    // zero bits allowed when the data ends without a marker
	err      error  // the scan's entropy-decoding error; see SetErr
}

// Reset starts r on the entropy-coded data at data[pos:]. endSlack is how
// many invented zero bits Check allows when the data simply ends, with no
// marker: OverrunSlack to treat that like any other end of a scan, or
// fewer for a codec that wants a stream without EOI to be complete. (At a
// marker OverrunSlack always applies.)
func (r *Reader) Reset(data []byte, pos, endSlack int) {
	*r = Reader{data: data, pos: pos, endSlack: endSlack}
}

// Pos returns the offset of the next unread byte: after a scan, the
// marker that ends it.
func (r *Reader) Pos() int { return r.pos }

// Err returns the error recorded by SetErr or Decode, or nil.
func (r *Reader) Err() error { return r.err }

// SetErr records err as the scan's error, replacing any earlier one.
// Decoding goes on (with garbage) until the codec next calls Check, so
// that the hot loops need no error returns.
func (r *Reader) SetErr(err error) { r.err = err }

// N returns the number of buffered bits.
func (r *Reader) N() uint { return r.n }

// Peek returns the buffered bits, left-aligned; bits past N are zero.
func (r *Reader) Peek() uint64 { return r.acc }

// Skip drops l buffered bits (l <= N).
func (r *Reader) Skip(l uint) {
	r.acc <<= l
	r.n -= l
}

// Acc returns the bit buffer, for a loop that keeps it in locals; it must
// give it back with SetAcc (or Refill) before any other method is called.
func (r *Reader) Acc() (acc uint64, n uint) { return r.acc, r.n }

// SetAcc stores a bit buffer taken with Acc and since consumed from.
func (r *Reader) SetAcc(acc uint64, n uint) { r.acc, r.n = acc, n }

// Refill is SetAcc, Fill and Acc in one: it tops up a bit buffer kept in
// locals.
func (r *Reader) Refill(acc uint64, n uint) (uint64, uint) {
	r.acc, r.n = acc, n
	r.Fill()
	return r.acc, r.n
}

// Fill tops the buffer up to at least 57 bits, with zeros past the end of
// the scan's data.
func (r *Reader) Fill() {
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

// Check returns the recorded error, or ErrTruncated when the scan has
// consumed more invented zero bits than its slack allows (see Reset).
// Codecs call it once per row of MCUs, not per symbol.
func (r *Reader) Check() error {
	if r.err != nil {
		return r.err
	}
	slack := OverrunSlack
	if r.atEnd {
		slack = r.endSlack
	}
	if r.pad*8 > int(r.n)+slack {
		return ErrTruncated
	}
	return nil
}

// Bits reads t bits (0 <= t <= 16) as an unsigned number, filling first
// when needed.
func (r *Reader) Bits(t uint) int32 {
	if r.n < t {
		r.Fill()
	}
	// For t == 0 both shifts are by 64 or 0: v is 0 and nothing moves.
	v := int32(r.acc >> (64 - t))
	r.acc <<= t
	r.n -= t
	return v
}

// Bit reads one bit.
func (r *Reader) Bit() bool {
	if r.n == 0 {
		r.Fill()
	}
	r.n--
	a := r.acc
	r.acc = a << 1
	return int64(a) < 0
}

// Receive reads the t magnitude bits (0 <= t <= 16) that follow a
// Huffman-coded magnitude category t and returns the signed value they
// code (T.81 F.2.2.1, RECEIVE then EXTEND); t == 0 codes zero. Unlike
// Bits it does not fill, so that it inlines: the caller must have made
// sure that t bits are buffered, as they are when N was at least 32 before
// the Decode that read t.
func (r *Reader) Receive(t uint) int32 {
	v := int32(r.acc >> (64 - t))
	r.acc <<= t
	r.n -= t
	return Extend(v, t)
}

// Extend turns the t-bit magnitude category value v into the signed value
// it codes (T.81 figure F.12). For t == 0, v is 0 and so is the result.
func Extend(v int32, t uint) int32 {
	// For t == 0 the shift count wraps and 1<<(t-1) is 0, so v is kept.
	if v < 1<<(t-1) {
		return v - (1 << t) + 1
	}
	return v
}

// Decode reads one Huffman-coded symbol. On an invalid code it records
// ErrBadCode (unless an error is recorded already) and returns 0; the
// codec finds the error at its next Check. Decode is too big to inline
// (a fill call plus Lookup's long-code search); loops that decode most of
// a stream's symbols keep the buffer in locals and call Lookup, which
// inlines, as jpegscale's do.
func (r *Reader) Decode(t *Table) int {
	if r.n < 16 {
		r.Fill()
	}
	s, l := t.Lookup(r.acc)
	if l == 0 {
		if r.err == nil {
			r.err = ErrBadCode
		}
		return 0
	}
	r.acc <<= l
	r.n -= l
	return s
}

// Restart ends a restart interval: it checks the interval's data (see
// Check), drops the buffered bits (padding of the interval's last byte)
// and consumes the RSTn marker, n counting the restarts from 0, that must
// follow.
func (r *Reader) Restart(n int) error {
	if err := r.Check(); err != nil {
		return err
	}
	r.acc, r.n = 0, 0
	// Skip anything left before the marker; a conforming stream has
	// nothing, but fill bytes (0xFF runs) are allowed in front of any
	// marker.
	p := r.pos
	for p+1 < len(r.data) && !(r.data[p] == 0xFF && r.data[p+1] != 0 && r.data[p+1] != 0xFF) {
		p++
	}
	want := byte(markerRST0 + n%8)
	if p+1 >= len(r.data) || r.data[p+1] != want {
		return errorf("expected RST%d marker at offset %d", n%8, p)
	}
	r.pos = p + 2
	r.atMarker, r.atEnd = false, false
	r.pad = 0
	return nil
}
