package jpegbits

import (
	"encoding/binary"
	"testing"
)

// FuzzDHT parses a DHT payload, builds its tables and checks each against
// the annex C reference: the same codes, and the same symbol for every
// code and for bit patterns taken from the input.
func FuzzDHT(f *testing.F) {
	for _, data := range fixtures(f) {
		for _, seg := range segments(f, data, 0xC4) {
			f.Add(seg)
		}
	}
	f.Add(dhtSegment(1, 3, &longCounts, longVals))
	f.Fuzz(func(t *testing.T, seg []byte) {
		for h, err := range ParseDHT(seg) {
			if err != nil {
				return
			}
			if h.Class > 1 || h.Dest > 3 {
				t.Fatalf("class %d destination %d accepted", h.Class, h.Dest)
			}
			var tab Table
			if tab.Build(h.Counts, h.Values) != nil {
				continue
			}
			codes := refCodes(h.Counts, h.Values)
			i := 0
			for c := range tab.Codes() {
				if i >= len(codes) || (refCode{c.Bits, c.Len, c.Sym}) != codes[i] {
					t.Fatalf("code %d: %+v, want %+v", i, c, codes[i])
				}
				i++
			}
			if i != len(codes) {
				t.Fatalf("%d codes, want %d", i, len(codes))
			}
			for _, c := range codes {
				acc := uint64(c.bits) << (64 - c.len)
				if s, l := tab.Lookup(acc); s != int(c.sym) || l != c.len {
					t.Fatalf("Lookup(%016x) = %d, %d; want %d, %d", acc, s, l, c.sym, c.len)
				}
			}
			for p := 0; p+8 <= len(seg); p++ {
				acc := binary.BigEndian.Uint64(seg[p:])
				ws, wl := refLookup(codes, acc)
				if s, l := tab.Lookup(acc); s != ws || l != wl {
					t.Fatalf("Lookup(%016x) = %d, %d; want %d, %d", acc, s, l, ws, wl)
				}
			}
		}
	})
}

// FuzzMarkers walks a stream's markers as the codecs do, parsing its DHT
// segments and reading the entropy-coded data after each SOS against a
// reference unstuffing (see checkReader).
func FuzzMarkers(f *testing.F) {
	for _, data := range fixtures(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pos, err := Start(data)
		if err != nil {
			return
		}
		for {
			m, next, ok := NextMarker(data, pos)
			if next <= pos && ok || next > len(data) {
				t.Fatalf("NextMarker(%d) = %d, %v", pos, next, ok)
			}
			pos = next
			if !ok {
				return
			}
			if m == 0 || m == 0xFF || data[pos-2] != 0xFF || data[pos-1] != m {
				t.Fatalf("marker 0x%02X at %d", m, pos-2)
			}
			if m == 0x01 || (m >= 0xD0 && m <= 0xD9) {
				continue
			}
			seg, next, err := Segment(data, pos, m)
			if err != nil {
				return
			}
			if next != pos+2+len(seg) {
				t.Fatalf("segment at %d: next %d for %d bytes", pos, next, len(seg))
			}
			pos = next
			switch m {
			case 0xC4:
				for h, err := range ParseDHT(seg) {
					if err != nil {
						break
					}
					var tab Table
					_ = tab.Build(h.Counts, h.Values)
				}
			case 0xDA:
				checkReader(t, data, pos, OverrunSlack)
				checkReader(t, data, pos, 0)
			}
		}
	})
}
