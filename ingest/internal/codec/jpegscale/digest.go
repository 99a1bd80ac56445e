package jpegscale

import (
	"encoding/binary"
	"hash"
)

// digestMagic starts the serialisation; it changes whenever the format
// does, so digests of different versions never collide by accident.
const digestMagic = "jpegscale coefficients v1\n"

// appendBlock appends the serialisation of one block, quantised in zigzag
// order with last its last non-zero index: for each non-zero coefficient
// the distance from the previous one (1..64; a byte) and its value as a
// zigzag-encoded varint, then a 0 byte. Distances are never 0, so the
// encoding is unambiguous, and it depends on the coefficient values alone.
func appendBlock(buf []byte, zz *[64]int32, last int) []byte {
	prev := -1
	for k := 0; k <= last && k < 64; k++ {
		if v := zz[k]; v != 0 {
			buf = append(buf, byte(k-prev))
			buf = binary.AppendUvarint(buf, uint64(uint32(v<<1^v>>31)))
			prev = k
		}
	}
	return append(buf, 0)
}

// appendBlock16 is appendBlock for a stored progressive block.
func appendBlock16(buf []byte, blk []int16) []byte {
	prev := -1
	for k, v := range blk[:64] {
		if v != 0 {
			v := int32(v)
			buf = append(buf, byte(k-prev))
			buf = binary.AppendUvarint(buf, uint64(uint32(v<<1^v>>31)))
			prev = k
		}
	}
	return append(buf, 0)
}

// writeDigest writes the serialisation described at Decoder.LumaDigest to
// h. A sequential image's blocks were serialised while decoding; a
// progressive image's are serialised here from the coefficient store.
func (d *Decoder) writeDigest(h hash.Hash) {
	if d.progressive {
		for i := range d.nc {
			c := &d.comp[i]
			buf := d.ser[i][:0]
			for b := range c.bw * c.bh {
				buf = appendBlock16(buf, c.coef[b*64:b*64+64])
			}
			d.ser[i] = buf
		}
	}
	hdr := make([]byte, 0, len(digestMagic)+5+d.nc*130)
	hdr = append(hdr, digestMagic...)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(d.width))
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(d.height))
	hdr = append(hdr, byte(d.nc))
	for i := range d.nc {
		c := &d.comp[i]
		hdr = append(hdr, byte(c.h), byte(c.v))
		for _, q := range c.q {
			hdr = binary.BigEndian.AppendUint16(hdr, uint16(q))
		}
	}
	h.Write(hdr)
	for i := range d.nc {
		h.Write(d.ser[i])
	}
}
