package graypng

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// compareStd decodes data with image/png and Decode and reports a
// difference: a different type, bounds, stride or pixel, or Decode
// accepting what image/png refuses. It returns Decode's error, for the
// caller to judge: Decode may refuse what image/png accepts.
func compareStd(tb testing.TB, data []byte) error {
	tb.Helper()
	want, werr := png.Decode(bytes.NewReader(data))
	got, gerr := Decode(data, 1<<26)
	switch {
	case werr != nil && gerr == nil:
		tb.Errorf("image/png refuses (%v), graypng decodes a %T", werr, got)
	case werr != nil:
	case gerr != nil:
		return gerr
	case !reflect.DeepEqual(got, want):
		tb.Errorf("graypng gives %s, image/png %s", pngtest.Describe(got), pngtest.Describe(want))
	}
	return gerr
}

// plainGray reports whether a valid PNG is one Decode must decode: 8- or
// 16-bit grey, not interlaced, without tRNS.
func plainGray(data []byte) bool {
	return data[24]&7 == 0 && data[25] == 0 && data[28] == 0 && !bytes.Contains(data, []byte("tRNS"))
}

// TestGenerated compares Decode with image/png on every generated case:
// the grey ones it must decode identically, the others it must leave to
// other decoders with ErrNotGray.
func TestGenerated(t *testing.T) {
	n := 0
	for name, data := range pngtest.GeneratedCases(t) {
		t.Run(name, func(t *testing.T) {
			err := compareStd(t, data)
			switch {
			case plainGray(data) && err != nil:
				t.Errorf("graypng refuses a plain grey PNG: %v", err)
			case !plainGray(data) && !errors.Is(err, ErrNotGray):
				t.Errorf("err = %v, want ErrNotGray", err)
			}
		})
		if plainGray(data) {
			n++
		}
	}
	t.Logf("%d of the cases are plain grey", n)
}

// TestCorpus compares Decode with image/png on every PNG in the shared
// corpus.
func TestCorpus(t *testing.T) {
	root, files := testkit.CorpusFiles(t, []string{".png"})
	if len(files) == 0 {
		t.Skip("no PNG in the corpus")
	}
	decoded := 0
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(rel, func(t *testing.T) {
			err := compareStd(t, data)
			switch {
			case err == nil:
				decoded++
			case !errors.Is(err, ErrNotGray):
				t.Logf("graypng refuses, image/png decodes (callers fall back): %v", err)
			}
		})
	}
	t.Logf("%d PNG files, %d decoded by graypng", len(files), decoded)
}

// TestTooLarge checks that the pixel budget is applied from IHDR, before
// the chunks are read: here the IDAT data is missing.
func TestTooLarge(t *testing.T) {
	data := pngtest.Encode(t, pngtest.RandomSpec(rand.New(rand.NewPCG(1, 1)), 40, 30, 8, 0))
	if _, err := Decode(data, 40*30-1); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("40x30 with budget 1199: err = %v, want codec.ErrTooLarge", err)
	}
	if _, err := Decode(data, 40*30); err != nil {
		t.Errorf("40x30 with budget 1200: %v", err)
	}
	// A 100-megapixel 16-bit header with 40x30 pixels of data fails
	// before 200 MB are allocated.
	big := pngtest.Split(t, data)
	binary.BigEndian.PutUint32(big[0].Data[0:], 10000)
	binary.BigEndian.PutUint32(big[0].Data[4:], 10000)
	big[0].Data[8] = 16
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Decode(pngtest.Join(big), 1e8); !errors.Is(err, ErrCorrupt) {
		t.Errorf("10000x10000 header, 40x30 data: err = %v, want ErrCorrupt", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("10000x10000 header, 40x30 data: %d bytes allocated", n)
	}
	huge := pngtest.Split(t, data)
	binary.BigEndian.PutUint32(huge[0].Data[0:], 1<<30)
	binary.BigEndian.PutUint32(huge[0].Data[4:], 1<<30)
	if _, err := Decode(pngtest.Join(huge[:1]), 1<<28); !errors.Is(err, codec.ErrTooLarge) {
		t.Errorf("2^30 x 2^30 IHDR alone: err = %v, want codec.ErrTooLarge", err)
	}
}

// TestLenient records, on valid PNGs altered one way each, which decoder
// accepts what: Decode must never accept what image/png refuses, and
// where it refuses what image/png accepts the caller falls back.
func TestLenient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	grey := pngtest.Encode(t, pngtest.RandomSpec(rng, 20, 10, 8, 0))
	badCRC := func(data []byte, typ string) []byte {
		out := bytes.Clone(data)
		i := bytes.Index(out, []byte(typ))
		n := int(binary.BigEndian.Uint32(out[i-4:]))
		out[i+4+n] ^= 1
		return out
	}
	gcs := pngtest.Split(t, grey)
	z := pngtest.IDAT(gcs)
	rows := pngtest.Inflate(t, z)
	text := pngtest.Chunk{Type: "tEXt", Data: []byte("Comment\x00hello")}
	join, with, before := pngtest.Join, pngtest.WithIDAT, pngtest.InsertBefore
	tests := []struct {
		name string
		data []byte
		want string // "both", "neither", "png" (only image/png decodes)
	}{
		{"valid", grey, "both"},
		{"no IEND", join(gcs[:len(gcs)-1]), "neither"},
		{"cut in IEND", grey[:len(grey)-2], "neither"},
		{"trailing garbage after IEND", append(bytes.Clone(grey), "garbage"...), "both"},
		{"bad IHDR CRC", badCRC(grey, "IHDR"), "neither"},
		{"bad IDAT CRC", badCRC(grey, "IDAT"), "neither"},
		{"bad IEND CRC", badCRC(grey, "IEND"), "neither"},
		{"bad ancillary CRC before IDAT", badCRC(join(before(gcs, "IDAT", text)), "tEXt"), "neither"},
		{"bad ancillary CRC after IDAT", badCRC(join(before(gcs, "IEND", text)), "tEXt"), "neither"},
		{"bad Adler-32", func() []byte {
			z := bytes.Clone(z)
			z[len(z)-1] ^= 1
			return join(with(gcs, z))
		}(), "neither"},
		{"no Adler-32", join(with(gcs, z[:len(z)-4])), "neither"},
		{"preset dictionary flag", func() []byte {
			z := bytes.Clone(z)
			// FDICT set, and FCHECK (the low 5 bits) made valid again.
			flg := z[1]&0xc0 | 0x20
			z[1] = flg | byte((31-(uint16(z[0])<<8|uint16(flg))%31)%31)
			return join(with(gcs, z))
		}(), "neither"},
		{"bytes after the zlib stream", join(with(gcs, append(bytes.Clone(z), 0, 0, 0))), "png"},
		{"bytes after the zlib stream, next IDAT", join(before(with(gcs, z), "IEND", pngtest.Chunk{Type: "IDAT", Data: []byte{1, 2}})), "png"},
		{"extra row in the zlib stream", join(with(gcs, pngtest.Deflate(append(bytes.Clone(rows), make([]byte, 21)...)))), "neither"},
		{"one byte short", join(with(gcs, pngtest.Deflate(rows[:len(rows)-1]))), "neither"},
		{"bad filter type", func() []byte {
			r := bytes.Clone(rows)
			r[21*3] = 5
			return join(with(gcs, pngtest.Deflate(r)))
		}(), "neither"},
		{"unknown critical chunk", join(before(gcs, "IDAT", pngtest.Chunk{Type: "ABCD", Data: []byte{1}})), "both"},
		{"unknown ancillary chunk", join(before(gcs, "IDAT", pngtest.Chunk{Type: "abCd", Data: []byte{1}})), "both"},
		{"unknown chunk before IHDR", join(append([]pngtest.Chunk{{Type: "abCd"}}, gcs...)), "png"},
		{"text between IDATs", func() []byte {
			cs := with(gcs, z[:10])
			cs = before(cs, "IEND", text)
			return join(before(cs, "IEND", pngtest.Chunk{Type: "IDAT", Data: z[10:]}))
		}(), "neither"},
		{"IDAT after text after IDAT", join(before(before(gcs, "IEND", text), "IEND", pngtest.Chunk{Type: "IDAT"})), "both"},
		{"empty IDAT first", join(before(gcs, "IDAT", pngtest.Chunk{Type: "IDAT"})), "both"},
		{"PLTE in grey image", join(before(gcs, "IDAT", pngtest.Chunk{Type: "PLTE", Data: []byte{1, 2, 3}})), "neither"},
		{"grey tRNS", join(before(gcs, "IDAT", pngtest.Chunk{Type: "tRNS", Data: []byte{1, 0}})), "png"},
		{"second IHDR", join(before(gcs, "IDAT", gcs[0])), "neither"},
		{"IEND before IDAT", join(before(gcs, "IDAT", pngtest.Chunk{Type: "IEND"})), "neither"},
		{"IEND with data", func() []byte {
			cs := bytes.Clone(grey)
			return append(cs[:len(cs)-12], join([]pngtest.Chunk{{Type: "IEND", Data: []byte{0}}})[8:]...)
		}(), "neither"},
		{"huge chunk length", func() []byte {
			cs := bytes.Clone(join(before(gcs, "IDAT", text)))
			i := bytes.Index(cs, []byte("tEXt"))
			binary.BigEndian.PutUint32(cs[i-4:], 0x80000000)
			return cs
		}(), "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, perr := png.Decode(bytes.NewReader(tt.data))
			_, gerr := Decode(tt.data, 1<<20)
			if perr == nil && gerr == nil {
				compareStd(t, tt.data)
			}
			got := map[[2]bool]string{{true, true}: "both", {false, false}: "neither", {true, false}: "png", {false, true}: "graypng"}[[2]bool{perr == nil, gerr == nil}]
			t.Logf("image/png: %v; graypng: %v", perr, gerr)
			if got != tt.want {
				t.Errorf("%s decodes, want %s", got, tt.want)
			}
		})
	}
}

// TestLarge compares Decode with image/png on large images written by
// image/png's encoder, where rows use every filter and the IDAT data
// spans many chunks.
func TestLarge(t *testing.T) {
	for _, kind := range []string{"gray", "gray16"} {
		if err := compareStd(t, pngtest.BenchPNG(t, 1024, kind)); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
	// Odd widths: a 16-bit row of 2*w bytes, and rows that are not a
	// multiple of 8 bytes.
	rng := rand.New(rand.NewPCG(3, 3))
	for _, w := range []int{1, 7, 9, 333} {
		for _, depth := range []int{8, 16} {
			s := pngtest.RandomSpec(rng, w, 17, depth, 0)
			s.Filter = -1
			if err := compareStd(t, pngtest.Encode(t, s)); err != nil {
				t.Errorf("%d wide, %d-bit: %v", w, depth, err)
			}
			g := image.NewGray(image.Rect(0, 0, w, 17))
			for i := range g.Pix {
				g.Pix[i] = byte(i*i/5 + rng.IntN(4))
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, g); err != nil {
				t.Fatal(err)
			}
			if err := compareStd(t, buf.Bytes()); err != nil {
				t.Errorf("image/png's encoding, %d wide: %v", w, err)
			}
		}
	}
}

// FuzzDecode checks Decode against image/png on arbitrary input: where
// image/png refuses, Decode must refuse; where both decode, the images
// must be identical.
func FuzzDecode(f *testing.F) {
	for _, data := range pngtest.GeneratedCases(f) {
		if plainGray(data) {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1<<22 {
			return // image/png would allocate it all
		}
		compareStd(t, data)
	})
}

// FuzzStream checks Decode against image/png on arbitrary zlib streams
// and sizes in a well-formed chunk layout: FuzzDecode's mutations mostly
// break a CRC, which stops both decoders before the inflate, so this
// target reaches the inflater and the unfiltering. Where both decoders
// accept, the images must be identical; Decode must refuse what image/png
// refuses.
func FuzzStream(f *testing.F) {
	for _, data := range pngtest.GeneratedCases(f) {
		if plainGray(data) {
			cs := pngtest.Split(f, data)
			w, h := binary.BigEndian.Uint32(cs[0].Data), binary.BigEndian.Uint32(cs[0].Data[4:])
			f.Add(uint8(w), uint8(h), cs[0].Data[8] == 16, pngtest.IDAT(cs))
		}
	}
	f.Fuzz(func(t *testing.T, w, h uint8, sixteen bool, z []byte) {
		ihdr := make([]byte, 13)
		binary.BigEndian.PutUint32(ihdr, uint32(w))
		binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
		ihdr[8] = 8
		if sixteen {
			ihdr[8] = 16
		}
		compareStd(t, pngtest.Join([]pngtest.Chunk{{Type: "IHDR", Data: ihdr}, {Type: "IDAT", Data: z}, {Type: "IEND"}}))
	})
}
