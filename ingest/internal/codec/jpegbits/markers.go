package jpegbits

import "encoding/binary"

// Marker codes (T.81 table B.1) this package itself acts on. The codecs
// keep their own lists of the ones they interpret.
const (
	markerRST0 = 0xD0
	markerSOI  = 0xD8
)

// Start checks that data begins with an SOI marker and returns the offset
// of what follows it, where a marker walk starts.
func Start(data []byte) (int, error) {
	if len(data) < 2 || data[0] != 0xFF || data[1] != markerSOI {
		return 0, ErrNoSOI
	}
	return 2, nil
}

// NextMarker finds the next marker at or after pos and returns its code
// and the offset just after it. Bytes that are not a marker are skipped,
// as libjpeg does with a warning, and so are fill bytes (0xFF runs) and
// stuffed bytes (0xFF00). At the end of the data it returns ok false and
// next len(data).
func NextMarker(data []byte, pos int) (m byte, next int, ok bool) {
	for p := pos; p+1 < len(data); p++ {
		if data[p] != 0xFF {
			continue
		}
		m := data[p+1]
		if m == 0 || m == 0xFF {
			continue // stuffed byte or fill byte
		}
		return m, p + 2, true
	}
	return 0, len(data), false
}

// Segment returns the payload of the segment of marker m whose length
// field is at data[pos:], and the offset just after the segment. m only
// names the marker in errors.
func Segment(data []byte, pos int, m byte) (seg []byte, next int, err error) {
	if pos+2 > len(data) {
		return nil, pos, errorf("marker 0x%02X: truncated length", m)
	}
	n := int(binary.BigEndian.Uint16(data[pos:]))
	if n < 2 || pos+n > len(data) {
		return nil, pos, errorf("marker 0x%02X: bad length %d", m, n)
	}
	return data[pos+2 : pos+n], pos + n, nil
}
