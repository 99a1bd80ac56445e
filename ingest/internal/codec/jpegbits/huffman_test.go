package jpegbits

import (
	"errors"
	"slices"
	"testing"
)

func TestParseDHT(t *testing.T) {
	dc := dhtSegment(0, 1, &dcCounts, dcVals)
	long := dhtSegment(1, 3, &longCounts, longVals)
	type table struct {
		class, dest, n int
	}
	tests := []struct {
		name    string
		seg     []byte
		want    []table
		wantErr bool
	}{
		{"empty", nil, nil, false},
		{"one", dc, []table{{0, 1, 12}}, false},
		{"two", append(slices.Clone(dc), long...), []table{{0, 1, 12}, {1, 3, 16}}, false},
		{"header truncated", dc[:16], nil, true},
		{"values truncated", dc[:len(dc)-1], nil, true},
		{"second truncated", append(slices.Clone(dc), long[:20]...), []table{{0, 1, 12}}, true},
		{"class 2", dhtSegment(2, 0, &dcCounts, dcVals), nil, true},
		{"destination 4", dhtSegment(0, 4, &dcCounts, dcVals), nil, true},
		{"more than 256 codes", dhtSegment(0, 0, &[16]byte{255, 255}, make([]byte, 510)), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []table
			var err error
			for h, e := range ParseDHT(tt.seg) {
				if e != nil {
					err = e
					break
				}
				got = append(got, table{h.Class, h.Dest, len(h.Values)})
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("error %v, want error %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tables %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		counts  [16]byte
		wantErr bool
	}{
		{"dc luminance", dcCounts, false},
		{"long codes", longCounts, false},
		{"empty", [16]byte{}, false},
		{"all-ones code used", [16]byte{0, 4}, false}, // libjpeg accepts it too
		{"three 1-bit codes", [16]byte{3}, true},
		{"overfull at length 3", [16]byte{1, 1, 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := make([]byte, 256)
			for i := range vals {
				vals[i] = byte(i)
			}
			err := new(Table).Build(&tt.counts, vals)
			if (err != nil) != tt.wantErr {
				t.Errorf("Build error %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestLookup checks every code of the test tables, at every alignment of
// what follows it, and the invalid codes, against the annex C reference.
func TestLookup(t *testing.T) {
	tests := []struct {
		name   string
		counts *[16]byte
		vals   []byte
	}{
		{"dc luminance", &dcCounts, dcVals},
		{"long codes", &longCounts, longVals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustTable(t, tt.counts, tt.vals)
			codes := refCodes(tt.counts, tt.vals)
			var got []refCode
			for c := range tab.Codes() {
				got = append(got, refCode{c.Bits, c.Len, c.Sym})
			}
			if !slices.Equal(got, codes) {
				t.Errorf("Codes = %v, want %v", got, codes)
			}
			for _, c := range codes {
				for _, rest := range []uint64{0, ^uint64(0) >> c.len, 0x5555555555555555 >> c.len} {
					acc := uint64(c.bits)<<(64-c.len) | rest
					if sym, l := tab.Lookup(acc); sym != int(c.sym) || l != c.len {
						t.Errorf("Lookup(%016x) = %d, %d; want %d, %d", acc, sym, l, c.sym, c.len)
					}
				}
			}
			// Every 16-bit prefix: the reference and Lookup agree, invalid
			// codes included.
			for p := range uint64(1 << 16) {
				acc := p << 48
				ws, wl := refLookup(codes, acc)
				if s, l := tab.Lookup(acc); s != ws || l != wl {
					t.Fatalf("Lookup(%016x) = %d, %d; want %d, %d", acc, s, l, ws, wl)
				}
			}
		})
	}
}

func TestExtend(t *testing.T) {
	// T.81 table F.1: category t codes -(2^t-1)..-2^(t-1) and
	// 2^(t-1)..2^t-1; the t bits of v count through them in order.
	tests := []struct {
		name string
		v    int32
		t    uint
		want int32
	}{
		{"zero category", 0, 0, 0},
		{"1: 0", 0, 1, -1},
		{"1: 1", 1, 1, 1},
		{"2: 00", 0, 2, -3},
		{"2: 01", 1, 2, -2},
		{"2: 10", 2, 2, 2},
		{"2: 11", 3, 2, 3},
		{"11: lowest", 0, 11, -2047},
		{"11: highest negative", 1023, 11, -1024},
		{"11: lowest positive", 1024, 11, 1024},
		{"15: highest", 1<<15 - 1, 15, 1<<15 - 1},
		{"16: lowest", 0, 16, -(1<<16 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Extend(tt.v, tt.t); got != tt.want {
				t.Errorf("Extend(%d, %d) = %d, want %d", tt.v, tt.t, got, tt.want)
			}
		})
	}
}

func TestDecodeBadCode(t *testing.T) {
	tab := mustTable(t, &longCounts, longVals)
	var r Reader
	r.Reset([]byte{0x80, 0, 0, 0}, 0, OverrunSlack) // a leading 1: no code
	if got := r.Decode(tab); got != 0 {
		t.Errorf("Decode = %d, want 0", got)
	}
	if err := r.Check(); !errors.Is(err, ErrBadCode) {
		t.Errorf("Check = %v, want ErrBadCode", err)
	}
	// The first error stays.
	r.Decode(tab)
	if !errors.Is(r.Err(), ErrBadCode) {
		t.Errorf("Err = %v after a second bad code", r.Err())
	}
}
