// Package dicomtest is test support for the codec packages: it finds the
// shared real-file corpus, pulls the compressed frames out of a DICOM file,
// and gets reference pixels from an independent decoder (GDCM's gdcmconv).
//
// It holds a deliberately small DICOM reader (little-endian, explicit or
// implicit VR) that only walks to the Pixel Data element; the real reader is
// package ingest/internal/dicom. Only tests import this package.
package dicomtest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// File is what the codec tests need from a DICOM file.
type File struct {
	TransferSyntax string
	Rows, Columns  int
	Samples        int // samples per pixel
	BitsAllocated  int
	BitsStored     int
	PixelRep       int // 0 unsigned, 1 signed
	Planar         int // planar configuration
	NumFrames      int
	Native         []byte   // native pixel data, when not encapsulated
	Frames         [][]byte // encapsulated pixel data, one entry per frame
}

// ModuleRoot is testkit.ModuleRoot, kept for the ljpeg and jpegscale
// tests; new tests call testkit.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	return testkit.ModuleRoot(tb)
}

// CorpusDir is testkit.Corpus, kept for the ljpeg and jpegscale tests; new
// tests call testkit.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	return testkit.Corpus(tb)
}

// CorpusFile returns the path of a corpus file given relative to the corpus
// directory, skipping the test when it is absent.
func CorpusFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(testkit.Corpus(tb), rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("corpus file %s missing", rel)
	}
	return p
}

// NeedTool returns the path of an external program, skipping the test when
// it is not installed.
func NeedTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s not installed; skipping cross-check", name)
	}
	return p
}

// Run runs an external program, failing the test with its output on error.
func Run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	out, err := exec.Command(NeedTool(tb, name), args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Read parses a DICOM file from disk.
func Read(tb testing.TB, path string) *File {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return f
}

// Raw decompresses a DICOM file with `gdcmconv --raw` (GDCM, independent of
// the codecs under test) and returns the result, skipping the test when
// gdcmconv is missing.
func Raw(tb testing.TB, path string) *File {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "raw.dcm")
	Run(tb, "gdcmconv", "--raw", path, out)
	f := Read(tb, out)
	if f.Native == nil {
		tb.Fatalf("gdcmconv --raw %s: output still encapsulated", path)
	}
	return f
}

// Parse reads the attributes File needs. It stops at Pixel Data.
func Parse(b []byte) (*File, error) {
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		return nil, fmt.Errorf("no DICM preamble")
	}
	f := &File{Samples: 1, NumFrames: 1}
	p := &parser{b: b, pos: 132, explicit: true, f: f}
	// The file meta group is always explicit VR little endian.
	for p.pos+4 <= len(b) && binary.LittleEndian.Uint16(b[p.pos:]) == 0x0002 {
		if err := p.element(); err != nil {
			return nil, err
		}
	}
	switch f.TransferSyntax {
	case "1.2.840.10008.1.2":
		p.explicit = false
	case "1.2.840.10008.1.2.1.99":
		// Deflated: the data set after the meta group is raw deflate.
		rest, err := io.ReadAll(flate.NewReader(bytes.NewReader(b[p.pos:])))
		if err != nil {
			return nil, fmt.Errorf("inflate: %v", err)
		}
		p.b = append(b[:p.pos:p.pos], rest...)
	case "1.2.840.10008.1.2.2":
		return nil, fmt.Errorf("transfer syntax %s not handled by this test reader", f.TransferSyntax)
	}
	for p.pos < len(p.b) && !p.done {
		if err := p.element(); err != nil {
			return nil, err
		}
	}
	if !p.done {
		return nil, fmt.Errorf("no pixel data")
	}
	return f, nil
}

type parser struct {
	b        []byte
	pos      int
	explicit bool
	depth    int
	done     bool
	f        *File
}

const undefined = 0xFFFFFFFF

func (p *parser) element() error {
	b := p.b
	if p.pos+8 > len(b) {
		return fmt.Errorf("truncated element at %d", p.pos)
	}
	group := binary.LittleEndian.Uint16(b[p.pos:])
	elem := binary.LittleEndian.Uint16(b[p.pos+2:])
	tag := uint32(group)<<16 | uint32(elem)
	var vr string
	var length uint32
	if p.explicit || group == 0x0002 {
		vr = string(b[p.pos+4 : p.pos+6])
		switch vr {
		case "OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV":
			if p.pos+12 > len(b) {
				return fmt.Errorf("truncated element header at %d", p.pos)
			}
			length = binary.LittleEndian.Uint32(b[p.pos+8:])
			p.pos += 12
		default:
			length = uint32(binary.LittleEndian.Uint16(b[p.pos+6:]))
			p.pos += 8
		}
	} else {
		length = binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
	}
	if tag == 0x7FE00010 && p.depth == 0 {
		return p.pixelData(length)
	}
	if length == undefined {
		return p.sequence()
	}
	if uint64(p.pos)+uint64(length) > uint64(len(b)) {
		return fmt.Errorf("element %08X length %d overruns file", tag, length)
	}
	v := b[p.pos : p.pos+int(length)]
	p.pos += int(length)
	if p.depth > 0 {
		return nil
	}
	u16 := func() int {
		if len(v) < 2 {
			return 0
		}
		return int(binary.LittleEndian.Uint16(v))
	}
	str := func() string { return strings.TrimRight(string(v), " \x00") }
	switch tag {
	case 0x00020010:
		p.f.TransferSyntax = str()
	case 0x00280002:
		p.f.Samples = u16()
	case 0x00280006:
		p.f.Planar = u16()
	case 0x00280008:
		n, err := strconv.Atoi(strings.TrimSpace(str()))
		if err == nil {
			p.f.NumFrames = n
		}
	case 0x00280010:
		p.f.Rows = u16()
	case 0x00280011:
		p.f.Columns = u16()
	case 0x00280100:
		p.f.BitsAllocated = u16()
	case 0x00280101:
		p.f.BitsStored = u16()
	case 0x00280103:
		p.f.PixelRep = u16()
	}
	return nil
}

// sequence skips a sequence of undefined length: items up to the sequence
// delimiter.
func (p *parser) sequence() error {
	b := p.b
	p.depth++
	defer func() { p.depth-- }()
	for p.pos+8 <= len(b) {
		tag := uint32(binary.LittleEndian.Uint16(b[p.pos:]))<<16 | uint32(binary.LittleEndian.Uint16(b[p.pos+2:]))
		length := binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
		switch tag {
		case 0xFFFEE0DD:
			return nil
		case 0xFFFEE000:
			if length != undefined {
				if uint64(p.pos)+uint64(length) > uint64(len(b)) {
					return fmt.Errorf("item overruns file")
				}
				p.pos += int(length)
				continue
			}
			// An item of undefined length: elements up to the item delimiter.
			for p.pos+8 <= len(b) {
				if binary.LittleEndian.Uint16(b[p.pos:]) == 0xFFFE && binary.LittleEndian.Uint16(b[p.pos+2:]) == 0xE00D {
					p.pos += 8
					break
				}
				if err := p.element(); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected tag %08X in sequence", tag)
		}
	}
	return fmt.Errorf("unterminated sequence")
}

func (p *parser) pixelData(length uint32) error {
	b := p.b
	p.done = true
	if length != undefined {
		if uint64(p.pos)+uint64(length) > uint64(len(b)) {
			return fmt.Errorf("pixel data overruns file")
		}
		p.f.Native = b[p.pos : p.pos+int(length)]
		return nil
	}
	var items [][]byte
	for p.pos+8 <= len(b) {
		tag := uint32(binary.LittleEndian.Uint16(b[p.pos:]))<<16 | uint32(binary.LittleEndian.Uint16(b[p.pos+2:]))
		n := binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
		if tag == 0xFFFEE0DD {
			break
		}
		if tag != 0xFFFEE000 || uint64(p.pos)+uint64(n) > uint64(len(b)) {
			return fmt.Errorf("bad pixel data item %08X length %d", tag, n)
		}
		items = append(items, b[p.pos:p.pos+int(n)])
		p.pos += int(n)
	}
	if len(items) < 2 {
		return fmt.Errorf("encapsulated pixel data without fragments")
	}
	bot, frags := items[0], items[1:]
	nf := p.f.NumFrames
	switch {
	case len(frags) == nf:
		p.f.Frames = frags
	case nf == 1:
		p.f.Frames = [][]byte{bytes.Join(frags, nil)}
	case len(bot) == 4*nf:
		// Split by the basic offset table: offsets count item headers too.
		var all []byte
		starts := map[int]int{} // offset of item header -> index into all
		off := 0
		for _, fr := range frags {
			starts[off] = len(all)
			all = append(all, fr...)
			off += 8 + len(fr)
		}
		for i := 0; i < nf; i++ {
			s, ok := starts[int(binary.LittleEndian.Uint32(bot[4*i:]))]
			if !ok {
				return fmt.Errorf("offset table entry %d does not start an item", i)
			}
			e := len(all)
			if i+1 < nf {
				e2, ok := starts[int(binary.LittleEndian.Uint32(bot[4*i+4:]))]
				if !ok {
					return fmt.Errorf("offset table entry %d does not start an item", i+1)
				}
				e = e2
			}
			p.f.Frames = append(p.f.Frames, all[s:e])
		}
	default:
		return fmt.Errorf("%d fragments for %d frames and no offset table", len(frags), nf)
	}
	return nil
}

// Samples16 returns native pixel data as one uint16 per sample, reading
// 8-bit data byte by byte and 16-bit data little-endian, and interleaving
// planar (planar configuration 1) colour data. Frame i only.
func (f *File) Samples16(tb testing.TB, frame int) []uint16 {
	tb.Helper()
	n := f.Rows * f.Columns * f.Samples
	bps := f.BitsAllocated / 8
	data := f.Native
	if len(data) < (frame+1)*n*bps {
		tb.Fatalf("native pixel data has %d bytes, want %d", len(data), (frame+1)*n*bps)
	}
	data = data[frame*n*bps : (frame+1)*n*bps]
	out := make([]uint16, n)
	for i := range out {
		src := i
		if f.Planar == 1 && f.Samples > 1 {
			px, s := i/f.Samples, i%f.Samples
			src = s*f.Rows*f.Columns + px
		}
		if bps == 1 {
			out[i] = uint16(data[src])
		} else {
			out[i] = binary.LittleEndian.Uint16(data[2*src:])
		}
	}
	return out
}

// Encapsulate builds a minimal Secondary Capture DICOM file around the given
// compressed frames, so that an external decoder (gdcmconv, dcmdjpeg) can
// check a bitstream the tests produced themselves.
// photometric "" means MONOCHROME2 for one sample and RGB for three.
func Encapsulate(ts, photometric string, rows, cols, samples, bitsAllocated, bitsStored int, frames [][]byte) []byte {
	var meta, ds bytes.Buffer
	const sopClass = "1.2.840.10008.5.1.4.1.1.7"
	const sopInstance = "1.2.826.0.1.3680043.2.1125.1"
	if photometric == "" {
		photometric = "MONOCHROME2"
		if samples == 3 {
			photometric = "RGB"
		}
	}
	putExplicit(&meta, 0x0002, 0x0001, "OB", []byte{0, 1})
	putExplicit(&meta, 0x0002, 0x0002, "UI", uid(sopClass))
	putExplicit(&meta, 0x0002, 0x0003, "UI", uid(sopInstance))
	putExplicit(&meta, 0x0002, 0x0010, "UI", uid(ts))
	putExplicit(&meta, 0x0002, 0x0012, "UI", uid("1.2.826.0.1.3680043.2.1125.2"))
	putExplicit(&ds, 0x0008, 0x0016, "UI", uid(sopClass))
	putExplicit(&ds, 0x0008, 0x0018, "UI", uid(sopInstance))
	putExplicit(&ds, 0x0008, 0x0060, "CS", []byte("OT"))
	putExplicit(&ds, 0x0028, 0x0002, "US", u16(samples))
	putExplicit(&ds, 0x0028, 0x0004, "CS", pad([]byte(photometric), ' '))
	if samples > 1 {
		putExplicit(&ds, 0x0028, 0x0006, "US", u16(0))
	}
	if len(frames) > 1 {
		putExplicit(&ds, 0x0028, 0x0008, "IS", pad([]byte(strconv.Itoa(len(frames))), ' '))
	}
	putExplicit(&ds, 0x0028, 0x0010, "US", u16(rows))
	putExplicit(&ds, 0x0028, 0x0011, "US", u16(cols))
	putExplicit(&ds, 0x0028, 0x0100, "US", u16(bitsAllocated))
	putExplicit(&ds, 0x0028, 0x0101, "US", u16(bitsStored))
	putExplicit(&ds, 0x0028, 0x0102, "US", u16(bitsStored-1))
	putExplicit(&ds, 0x0028, 0x0103, "US", u16(0))
	ds.Write([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF})
	item := func(b []byte) {
		ds.Write([]byte{0xFE, 0xFF, 0x00, 0xE0})
		binary.Write(&ds, binary.LittleEndian, uint32(len(b)+len(b)%2))
		ds.Write(b)
		if len(b)%2 == 1 {
			ds.WriteByte(0)
		}
	}
	item(nil) // empty basic offset table
	for _, f := range frames {
		item(f)
	}
	ds.Write([]byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	putExplicit(&out, 0x0002, 0x0000, "UL", binary.LittleEndian.AppendUint32(nil, uint32(meta.Len())))
	out.Write(meta.Bytes())
	out.Write(ds.Bytes())
	return out.Bytes()
}

func uid(s string) []byte { return pad([]byte(s), 0) }

func pad(b []byte, c byte) []byte {
	if len(b)%2 == 1 {
		return append(b, c)
	}
	return b
}

func u16(v int) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }

func putExplicit(w *bytes.Buffer, group, elem uint16, vr string, v []byte) {
	binary.Write(w, binary.LittleEndian, group)
	binary.Write(w, binary.LittleEndian, elem)
	w.WriteString(vr)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		w.Write([]byte{0, 0})
		binary.Write(w, binary.LittleEndian, uint32(len(v)))
	default:
		binary.Write(w, binary.LittleEndian, uint16(len(v)))
	}
	w.Write(v)
}
