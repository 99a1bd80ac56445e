package jpeghdr

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
)

// FastCandidate reports whether a JPEG stream is one the reduced-scale
// decoders (libjpeg-turbo, jpegscale) handle: 8-bit Huffman DCT (baseline,
// extended, progressive), grey or YCbCr colour. RGB and CMYK streams have
// no luma plane to take.
func FastCandidate(sof byte, precision, components int, ycbcr bool) bool {
	if precision != 8 || (sof != 0xC0 && sof != 0xC1 && sof != 0xC2) {
		return false
	}
	return components == 1 || components == 3 && ycbcr
}

// StreamDigest is the pixel digest of JPEG-coded data: a SHA-256 of the
// stream without its metadata segments (APPn, COM), so that the same coded
// picture with other EXIF or JFIF headers, or copied out of a DICOM, gets
// the same digest. JPEG decoders differ from one another by a grey level
// here and there, so a digest of decoded JPEG pixels would say more about
// the decoder than the data, and decoding in full only to digest would
// cost the reduced-scale decode its speed; the coded data fixes the
// pixels for any one decoder.
func StreamDigest(data []byte) [32]byte {
	d := sha256.New()
	d.Write([]byte("copycat-jpeg-v1\n"))
	p := 2
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		p = 0
	}
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			break
		}
		m := data[p+1]
		if m == 0xFF {
			p++
			continue
		}
		if m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			p += 2
			continue
		}
		if m == 0xD9 {
			p = len(data)
			break
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		end := p + 2 + n
		if n < 2 || end > len(data) {
			break
		}
		if !(m >= 0xE0 && m <= 0xEF) && m != 0xFE {
			d.Write(data[p:end])
		}
		p = end
		if m == 0xDA {
			// Entropy-coded data runs to the next marker that is neither a
			// stuffed 0xFF00 nor a restart marker.
			q := p
			for {
				i := bytes.IndexByte(data[q:], 0xFF)
				if i < 0 || q+i+1 >= len(data) {
					q = len(data)
					break
				}
				q += i
				if nx := data[q+1]; nx == 0x00 || (nx >= 0xD0 && nx <= 0xD7) || nx == 0xFF {
					q += 2
					if nx == 0xFF {
						q--
					}
					continue
				}
				break
			}
			d.Write(data[p:q])
			p = q
		}
	}
	if p < len(data) {
		// Whatever could not be parsed still counts: trailing bytes after a
		// broken segment change the picture as far as we can tell.
		d.Write(bytes.TrimRight(data[p:], "\x00"))
	}
	var out [32]byte
	d.Sum(out[:0])
	return out
}
