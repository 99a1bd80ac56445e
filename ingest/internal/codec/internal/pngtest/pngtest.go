// Package pngtest is test support for the PNG decoders of package ingest
// (packages graypng and spng): it writes PNGs of every colour type, bit
// depth, filter and interlace image/png's encoder does not, edits their
// chunks, and builds the benchmark inputs. Only tests import it.
package pngtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// Spec describes a PNG for Encode: image/png's encoder writes only a few
// of the colour type, bit depth, tRNS and interlace combinations the tests
// need.
type Spec struct {
	W, H      int
	Depth, CT int
	Interlace bool
	Filter    int      // 0-4 for every row, or -1 to cycle through them
	Samples   []uint16 // H*W*Channels samples, row-major, each < 1<<Depth
	PLTE      []byte   // PLTE payload, written when non-nil
	TRNS      []byte   // tRNS payload, written when non-nil
}

// Channels returns the samples per pixel of a PNG colour type.
func Channels(ct int) int {
	return [7]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
}

// RandomSpec fills a spec with random samples, a palette of 1<<depth
// entries for colour type 3, and no tRNS.
func RandomSpec(rng *rand.Rand, w, h, depth, ct int) Spec {
	s := Spec{W: w, H: h, Depth: depth, CT: ct}
	n := w * h * Channels(ct)
	s.Samples = make([]uint16, n)
	for i := range s.Samples {
		s.Samples[i] = uint16(rng.IntN(1 << depth))
	}
	if ct == 3 {
		s.PLTE = make([]byte, 3<<depth)
		for i := range s.PLTE {
			s.PLTE[i] = byte(rng.IntN(256))
		}
	}
	return s
}

// adam7 lists the passes of Adam7 interlacing: x0, y0, dx, dy.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// Encode writes s as a PNG: zlib-compressed IDAT split over chunks of at
// most 8 KiB, filtered as s.Filter says.
func Encode(tb testing.TB, s Spec) []byte {
	tb.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(s.W))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(s.H))
	ihdr[8], ihdr[9] = byte(s.Depth), byte(s.CT)
	if s.Interlace {
		ihdr[12] = 1
	}
	WriteChunk(&out, "IHDR", ihdr)
	if s.PLTE != nil {
		WriteChunk(&out, "PLTE", s.PLTE)
	}
	if s.TRNS != nil {
		WriteChunk(&out, "tRNS", s.TRNS)
	}
	var raw bytes.Buffer
	passes := [][4]int{{0, 0, 1, 1}}
	if s.Interlace {
		passes = adam7[:]
	}
	ch := Channels(s.CT)
	bpp := max(1, s.Depth*ch/8) // filter distance in bytes
	row := 0
	for _, p := range passes {
		var prev []byte
		for y := p[1]; y < s.H; y += p[3] {
			var bits []uint16
			for x := p[0]; x < s.W; x += p[2] {
				bits = append(bits, s.Samples[(y*s.W+x)*ch:(y*s.W+x+1)*ch]...)
			}
			if len(bits) == 0 {
				break
			}
			cur := pack(bits, s.Depth)
			if prev == nil {
				prev = make([]byte, len(cur))
			}
			f := s.Filter
			if f < 0 {
				f = row % 5
			}
			row++
			raw.WriteByte(byte(f))
			raw.Write(filterRow(f, cur, prev, bpp))
			prev = cur
		}
	}
	z := Deflate(raw.Bytes())
	for len(z) > 0 {
		n := min(len(z), 8192)
		WriteChunk(&out, "IDAT", z[:n])
		z = z[n:]
	}
	WriteChunk(&out, "IEND", nil)
	return out.Bytes()
}

// pack packs samples of depth bits, big-endian, into a row of bytes.
func pack(samples []uint16, depth int) []byte {
	if depth == 16 {
		b := make([]byte, 2*len(samples))
		for i, v := range samples {
			binary.BigEndian.PutUint16(b[2*i:], v)
		}
		return b
	}
	b := make([]byte, (len(samples)*depth+7)/8)
	for i, v := range samples {
		bit := i * depth
		b[bit/8] |= byte(v) << (8 - depth - bit%8)
	}
	return b
}

// filterRow applies PNG filter f to cur given the previous row, as the
// specification's reference code does (not as the decoders under test
// reverse it).
func filterRow(f int, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur))
	for i := range cur {
		var a, b, c byte
		if i >= bpp {
			a, c = cur[i-bpp], prev[i-bpp]
		}
		b = prev[i]
		var pred byte
		switch f {
		case 1:
			pred = a
		case 2:
			pred = b
		case 3:
			pred = byte((int(a) + int(b)) / 2)
		case 4:
			pred = Paeth(a, b, c)
		}
		out[i] = cur[i] - pred
	}
	return out
}

// Paeth is the PNG specification's Paeth predictor, written as the
// specification writes it.
func Paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// WriteChunk writes one chunk with its length and CRC.
func WriteChunk(w *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	w.Write(n[:])
	w.WriteString(typ)
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	w.Write(n[:])
}

// Chunk is one PNG chunk as split by Split.
type Chunk struct {
	Type string
	Data []byte
}

// Split splits a well-formed PNG into its chunks.
func Split(tb testing.TB, data []byte) []Chunk {
	tb.Helper()
	var cs []Chunk
	for p := 8; p < len(data); {
		n := int(binary.BigEndian.Uint32(data[p:]))
		cs = append(cs, Chunk{string(data[p+4 : p+8]), data[p+8 : p+8+n]})
		p += 12 + n
	}
	return cs
}

// Join writes chunks back into a PNG with correct CRCs.
func Join(cs []Chunk) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	for _, c := range cs {
		WriteChunk(&out, c.Type, c.Data)
	}
	return out.Bytes()
}

// IDAT returns the concatenated IDAT payload.
func IDAT(cs []Chunk) []byte {
	var b []byte
	for _, c := range cs {
		if c.Type == "IDAT" {
			b = append(b, c.Data...)
		}
	}
	return b
}

// WithIDAT replaces the IDAT chunks by one holding z.
func WithIDAT(cs []Chunk, z []byte) []Chunk {
	var out []Chunk
	done := false
	for _, c := range cs {
		if c.Type != "IDAT" {
			out = append(out, c)
		} else if !done {
			out = append(out, Chunk{"IDAT", z})
			done = true
		}
	}
	return out
}

// InsertBefore inserts c before the first chunk of type typ.
func InsertBefore(cs []Chunk, typ string, c Chunk) []Chunk {
	for i := range cs {
		if cs[i].Type == typ {
			return append(cs[:i:i], append([]Chunk{c}, cs[i:]...)...)
		}
	}
	return cs
}

// Inflate decompresses a zlib stream.
func Inflate(tb testing.TB, z []byte) []byte {
	tb.Helper()
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// Deflate compresses b as a zlib stream.
func Deflate(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// GeneratedCases lists PNGs covering every colour type and bit depth,
// with and without tRNS, plain and Adam7, at sizes that leave partial
// bytes and empty interlace passes, with every filter type, and images
// written by image/png's encoder.
func GeneratedCases(tb testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(14, 3))
	sizes := [][2]int{{1, 1}, {3, 7}, {13, 5}, {33, 17}, {64, 9}}
	formats := []struct{ ct, depth int }{
		{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16},
		{4, 8}, {4, 16},
		{2, 8}, {2, 16},
		{6, 8}, {6, 16},
		{3, 1}, {3, 2}, {3, 4}, {3, 8},
	}
	cases := map[string][]byte{}
	for _, f := range formats {
		for _, sz := range sizes {
			for _, interlace := range []bool{false, true} {
				for _, trns := range []string{"", "tRNS", "tRNS-short", "small-PLTE"} {
					if trns != "" && (f.ct == 4 || f.ct == 6) ||
						trns == "tRNS-short" && f.ct != 3 ||
						trns == "small-PLTE" && f.ct != 3 {
						continue
					}
					s := RandomSpec(rng, sz[0], sz[1], f.depth, f.ct)
					s.Interlace, s.Filter = interlace, -1
					switch {
					case trns == "small-PLTE":
						// Indices past the palette: image/png extends
						// it with opaque black.
						s.PLTE = s.PLTE[:3]
					case trns == "" || trns == "tRNS-short":
						if f.ct == 3 && trns != "" {
							s.TRNS = []byte{0, 128}
						}
					case f.ct == 3:
						s.TRNS = make([]byte, 1<<f.depth)
						for i := range s.TRNS {
							s.TRNS[i] = byte(rng.IntN(256))
						}
					default:
						// Make the transparent colour the first pixel's,
						// so that some pixels match it.
						for c := range Channels(f.ct) {
							s.TRNS = append(s.TRNS, byte(s.Samples[c]>>8), byte(s.Samples[c]))
						}
					}
					name := fmt.Sprintf("ct%d_%dbit_%dx%d", f.ct, f.depth, sz[0], sz[1])
					if interlace {
						name += "_adam7"
					}
					if trns != "" {
						name += "_" + trns
					}
					cases[name] = Encode(tb, s)
				}
			}
		}
	}
	// Every filter type alone, and image/png's own encoder's choice.
	for f := 0; f <= 4; f++ {
		for _, ct := range []int{0, 2, 6} {
			s := RandomSpec(rng, 29, 11, 8, ct)
			s.Filter = f
			cases[fmt.Sprintf("filter%d_ct%d", f, ct)] = Encode(tb, s)
			s = RandomSpec(rng, 29, 11, 16, ct)
			s.Filter = f
			cases[fmt.Sprintf("filter%d_ct%d_16bit", f, ct)] = Encode(tb, s)
		}
	}
	for _, img := range stdImages(rng) {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		cases[fmt.Sprintf("image_png_%T", img)] = buf.Bytes()
	}
	return cases
}

// stdImages returns small smooth images of the types image/png encodes,
// which its encoder filters with all five filters.
func stdImages(rng *rand.Rand) []image.Image {
	r := image.Rect(0, 0, 77, 45)
	imgs := []image.Image{image.NewGray(r), image.NewGray16(r), image.NewRGBA(r), image.NewNRGBA(r), image.NewRGBA64(r), image.NewNRGBA64(r)}
	for _, img := range imgs {
		pix := reflect.ValueOf(img).Elem().FieldByName("Pix").Bytes()
		for i := range pix {
			pix[i] = byte(i/7 + rng.IntN(3))
		}
	}
	return imgs
}

// Describe summarises an image and the first bytes of its pixels, for
// test failures.
func Describe(img image.Image) string {
	v := reflect.ValueOf(img).Elem()
	pix := v.FieldByName("Pix").Bytes()
	s := fmt.Sprintf("%T %v stride %d pix[:16] % x", img, img.Bounds(), v.FieldByName("Stride").Int(), pix[:min(16, len(pix))])
	if p, ok := img.(*image.Paletted); ok {
		s += fmt.Sprintf(" palette %d entries", len(p.Palette))
	}
	return s
}

// CPUTime returns the CPU time (user and system) the process has used:
// steadier than wall time on a shared machine, where other processes take
// the CPU.
func CPUTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSource returns a photograph to build the benchmark inputs from
// (skimage's camera or astronaut, 512x512, from the shared corpus), or a
// synthetic picture of smooth shapes when the corpus is absent.
func benchSource(tb testing.TB, rgb bool) image.Image {
	tb.Helper()
	name := "camera.png"
	if rgb {
		name = "astronaut.png"
	}
	if dir, ok := testkit.FindCorpus(tb); ok {
		if f, err := os.ReadFile(filepath.Join(dir, "natural", "skimage", name)); err == nil {
			if img, err := png.Decode(bytes.NewReader(f)); err == nil {
				return img
			}
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for y := range 512 {
		for x := range 512 {
			d := (x-256)*(x-256) + (y-200)*(y-200)
			v := byte(40 + 160*max(0, 40000-d)/40000 + x/8)
			img.Pix[img.PixOffset(x, y)+0] = v
			img.Pix[img.PixOffset(x, y)+1] = v / 2
			img.Pix[img.PixOffset(x, y)+2] = 255 - v
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
	return img
}

// BenchPNG encodes a side x side PNG as an X-ray export looks: the source
// resized, with a little sensor noise, as 8-bit grey ("gray"), 16-bit grey
// with 12 bits used ("gray16") or 8-bit RGB ("rgb"), with image/png's
// default compression, which picks a filter per row.
func BenchPNG(tb testing.TB, side int, kind string) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(side), 9))
	src := imaging.Resize(benchSource(tb, kind == "rgb"), side, side, imaging.Lanczos)
	noise := func(v byte) int { return int(v) + rng.IntN(5) - 2 }
	var img image.Image
	switch kind {
	case "gray":
		g := image.NewGray(src.Rect)
		for i := range g.Pix {
			g.Pix[i] = byte(min(255, max(0, noise(src.Pix[4*i]))))
		}
		img = g
	case "gray16":
		g := image.NewGray16(src.Rect)
		for i := 0; i < len(g.Pix); i += 2 {
			v := uint16(min(4095, max(0, 16*noise(src.Pix[2*i]))))
			g.Pix[i], g.Pix[i+1] = byte(v>>8), byte(v)
		}
		img = g
	case "rgb":
		for i := range src.Pix {
			if i%4 != 3 {
				src.Pix[i] = byte(min(255, max(0, noise(src.Pix[i]))))
			}
		}
		img = src
	default:
		tb.Fatalf("BenchPNG: unknown kind %q", kind)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
