package jpegbits

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestStart(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    int
		wantErr error
	}{
		{"soi", []byte{0xFF, 0xD8, 0xFF, 0xD9}, 2, nil},
		{"only soi", []byte{0xFF, 0xD8}, 2, nil},
		{"empty", nil, 0, ErrNoSOI},
		{"one byte", []byte{0xFF}, 0, ErrNoSOI},
		{"eoi first", []byte{0xFF, 0xD9}, 0, ErrNoSOI},
		{"fill before soi", []byte{0xFF, 0xFF, 0xD8}, 0, ErrNoSOI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Start(tt.data)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Start = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNextMarker(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		pos      int
		wantM    byte
		wantNext int
		wantOK   bool
	}{
		{"at marker", []byte{0xFF, 0xDB, 0, 4}, 0, 0xDB, 2, true},
		{"fill bytes", []byte{0xFF, 0xFF, 0xFF, 0xC4}, 0, 0xC4, 4, true},
		{"stray data", []byte{1, 2, 3, 0xFF, 0xDA}, 0, 0xDA, 5, true},
		{"stuffed byte skipped", []byte{0xFF, 0x00, 0xFF, 0xD9}, 0, 0xD9, 4, true},
		{"rst", []byte{0xAB, 0xFF, 0xD3}, 0, 0xD3, 3, true},
		{"from pos", []byte{0xFF, 0xD8, 0xFF, 0xE0}, 2, 0xE0, 4, true},
		{"none", []byte{1, 2, 3}, 0, 0, 3, false},
		{"trailing 0xFF", []byte{1, 0xFF}, 0, 0, 2, false},
		{"only fill", []byte{0xFF, 0xFF, 0xFF}, 0, 0, 3, false},
		{"empty", nil, 0, 0, 0, false},
		{"pos at end", []byte{0xFF, 0xD9}, 2, 0, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, next, ok := NextMarker(tt.data, tt.pos)
			if m != tt.wantM || next != tt.wantNext || ok != tt.wantOK {
				t.Errorf("NextMarker = 0x%02X, %d, %v; want 0x%02X, %d, %v", m, next, ok, tt.wantM, tt.wantNext, tt.wantOK)
			}
		})
	}
}

func TestSegment(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		pos      int
		wantSeg  []byte
		wantNext int
		wantErr  bool
	}{
		{"payload", []byte{0, 5, 1, 2, 3, 0xFF}, 0, []byte{1, 2, 3}, 5, false},
		{"empty payload", []byte{0, 2}, 0, []byte{}, 2, false},
		{"after marker", []byte{0xFF, 0xDD, 0, 4, 0, 8}, 2, []byte{0, 8}, 6, false},
		{"no length", []byte{0}, 0, nil, 0, true},
		{"length below 2", []byte{0, 1, 7}, 0, nil, 0, true},
		{"length past end", []byte{0, 9, 1, 2}, 0, nil, 0, true},
		{"pos past end", []byte{0, 2}, 3, nil, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, next, err := Segment(tt.data, tt.pos, 0xC4)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Segment error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if _, ok := errors.AsType[*Error](err); !ok {
					t.Errorf("error %v is not an *Error", err)
				}
				return
			}
			if !bytes.Equal(seg, tt.wantSeg) || next != tt.wantNext {
				t.Errorf("Segment = %v, %d; want %v, %d", seg, next, tt.wantSeg, tt.wantNext)
			}
		})
	}
}

// TestWalkFixtures walks every fixture to EOI: each has a scan, and each
// Huffman-coded one (all but the arithmetic-coded) a DHT.
func TestWalkFixtures(t *testing.T) {
	for name, data := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			if got := len(segments(t, data, 0xDA)); got == 0 {
				t.Errorf("no SOS segment found")
			}
			if got := len(segments(t, data, 0xC4)); got == 0 && !strings.Contains(name, "arith") {
				t.Errorf("no DHT segment found")
			}
		})
	}
}

func TestWrap(t *testing.T) {
	other := errors.New("ljpeg: no frame header")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"sentinel", ErrBadCode, "ljpeg: invalid Huffman code"},
		{"formatted", errorf("marker 0x%02X: bad length %d", 0xC4, 1), "ljpeg: marker 0xC4: bad length 1"},
		{"codec's own", other, "ljpeg: no frame header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wrap("ljpeg", tt.err)
			if tt.err == nil {
				if got != nil {
					t.Errorf("Wrap(nil) = %v", got)
				}
				return
			}
			if got.Error() != tt.want || !errors.Is(got, tt.err) {
				t.Errorf("Wrap = %q, want %q wrapping the original", got, tt.want)
			}
		})
	}
}
