package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"image"

	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegscale"
	"github.com/copycat-dev/copycat/ingest/internal/codec/turbojpeg"
)

// fastJPEG is one goroutine's reduced-scale JPEG decoders. Fingerprints
// need only the luma plane at about 64 pixels a side, and a full decode is
// most of a scan's time, so with Options.MinSide set, JPEG data (files and
// DICOM frames) is decoded at 1/2, 1/4 or 1/8 of its size: through
// libjpeg-turbo when the binary has it, else through the pure-Go jpegscale.
type fastJPEG struct {
	pure  jpegscale.Decoder
	turbo *turbojpeg.Decoder // nil without the turbojpeg build
}

func newFastJPEG() *fastJPEG {
	f := &fastJPEG{}
	if turbojpeg.Available {
		if d, err := turbojpeg.NewDecoder(); err == nil {
			f.turbo = d
		}
	}
	return f
}

func (f *fastJPEG) close() error {
	if f == nil || f.turbo == nil {
		return nil
	}
	return f.turbo.Close()
}

// luma decodes the luma plane at the largest reduction that keeps both
// sides at least minSide. An error means the caller should decode in full
// (the full decoder then says what is wrong, if anything).
func (f *fastJPEG) luma(data []byte, minSide int) (*image.Gray, int, error) {
	if f.turbo != nil {
		return f.turbo.Luma(data, minSide)
	}
	return f.pure.Luma(data, minSide)
}

// fastCandidate reports whether a JPEG stream is one the reduced decoders
// handle: 8-bit Huffman DCT (baseline, extended, progressive), grey or
// YCbCr colour. RGB and CMYK streams have no luma plane to take.
func fastCandidate(sof byte, precision, components int, ycbcr bool) bool {
	if precision != 8 || (sof != 0xC0 && sof != 0xC1 && sof != 0xC2) {
		return false
	}
	return components == 1 || components == 3 && ycbcr
}

// jpegStreamDigest is the pixel digest of JPEG-coded data: a SHA-256 of the
// stream without its metadata segments (APPn, COM), so that the same coded
// picture with other EXIF or JFIF headers, or copied out of a DICOM, gets
// the same digest. JPEG decoders differ from one another by a grey level
// here and there, so a digest of decoded JPEG pixels would say more about
// the decoder than the data, and decoding in full only to digest would
// cost the reduced-scale decode its speed; the coded data fixes the
// pixels for any one decoder.
func jpegStreamDigest(data []byte) [32]byte {
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
