//go:build cgo && spng

package spng

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

// TestLenient records, on valid PNGs altered one way each, which decoder
// accepts what: Decode must never accept what image/png refuses, and
// where it refuses what image/png accepts the caller falls back.
func TestLenient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	grey := pngtest.Encode(t, pngtest.RandomSpec(rng, 20, 10, 8, 0))
	pal := pngtest.RandomSpec(rng, 20, 10, 4, 3)
	pal.PLTE = pal.PLTE[:3*10]
	palette := pngtest.Encode(t, pal)
	badCRC := func(data []byte, typ string) []byte {
		out := bytes.Clone(data)
		i := bytes.Index(out, []byte(typ))
		n := int(binary.BigEndian.Uint32(out[i-4:]))
		out[i+4+n] ^= 1
		return out
	}
	rgb := pngtest.Encode(t, pngtest.RandomSpec(rng, 7, 5, 8, 2))
	rgba := pngtest.Encode(t, pngtest.RandomSpec(rng, 7, 5, 8, 6))
	gcs := pngtest.Split(t, grey)
	text := pngtest.Chunk{Type: "tEXt", Data: []byte("Comment\x00hello")}
	tests := []struct {
		name string
		data []byte
		want string // "both", "neither", "png" (only image/png decodes)
	}{
		{"valid", grey, "both"},
		{"no IEND", pngtest.Join(gcs[:len(gcs)-1]), "neither"},
		{"trailing garbage after IEND", append(bytes.Clone(grey), "garbage"...), "both"},
		{"bad IDAT CRC", badCRC(grey, "IDAT"), "neither"},
		{"bad IEND CRC", badCRC(grey, "IEND"), "neither"},
		{"bad ancillary CRC before IDAT", badCRC(pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", text)), "tEXt"), "neither"},
		{"bad ancillary CRC after IDAT", badCRC(pngtest.Join(pngtest.InsertBefore(gcs, "IEND", text)), "tEXt"), "neither"},
		{"bad Adler-32", func() []byte {
			z := bytes.Clone(pngtest.IDAT(gcs))
			z[len(z)-1] ^= 1
			return pngtest.Join(pngtest.WithIDAT(gcs, z))
		}(), "neither"},
		{"bytes after the zlib stream", pngtest.Join(pngtest.WithIDAT(gcs, append(bytes.Clone(pngtest.IDAT(gcs)), 0, 0, 0))), "both"},
		{"extra row in the zlib stream", pngtest.Join(pngtest.WithIDAT(gcs, pngtest.Deflate(append(pngtest.Inflate(t, pngtest.IDAT(gcs)), make([]byte, 21)...)))), "spng"},
		{"one row short", pngtest.Join(pngtest.WithIDAT(gcs, pngtest.Deflate(pngtest.Inflate(t, pngtest.IDAT(gcs))[:21*9]))), "neither"},
		{"unknown critical chunk", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "ABCD", Data: []byte{1}})), "png"},
		{"unknown ancillary chunk", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "abCd", Data: []byte{1}})), "both"},
		{"text between IDATs", func() []byte {
			z := pngtest.IDAT(gcs)
			cs := pngtest.WithIDAT(gcs, z[:10])
			cs = pngtest.InsertBefore(cs, "IEND", text)
			return pngtest.Join(pngtest.InsertBefore(cs, "IEND", pngtest.Chunk{Type: "IDAT", Data: z[10:]}))
		}(), "neither"},
		{"IDAT after text after IDAT", pngtest.Join(pngtest.InsertBefore(pngtest.InsertBefore(gcs, "IEND", text), "IEND", pngtest.Chunk{Type: "IDAT", Data: nil})), "png"},
		{"PLTE in grey image", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "PLTE", Data: []byte{1, 2, 3}})), "neither"},
		{"grey tRNS out of range", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "tRNS", Data: []byte{1, 0}})), "both"},
		{"bad gAMA", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "gAMA", Data: []byte{0, 0, 0, 0}})), "both"},
		{"bad tIME", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", pngtest.Chunk{Type: "tIME", Data: []byte{0, 0, 99, 99, 99, 99, 99}})), "both"},
		{"tRNS longer than PLTE", func() []byte {
			return pngtest.Join(pngtest.InsertBefore(pngtest.Split(t, palette), "IDAT", pngtest.Chunk{Type: "tRNS", Data: make([]byte, 12)}))
		}(), "both"},
		{"PLTE longer than the bit depth allows", func() []byte {
			cs := pngtest.Split(t, palette)
			for i := range cs {
				if cs[i].Type == "PLTE" {
					cs[i].Data = make([]byte, 3*17)
				}
			}
			return pngtest.Join(cs)
		}(), "neither"},
		{"palette index past PLTE", palette, "both"},
		{"tRNS in RGBA image", pngtest.Join(pngtest.InsertBefore(pngtest.Split(t, rgba), "IDAT", pngtest.Chunk{Type: "tRNS", Data: make([]byte, 6)})), "neither"},
		{"tRNS before PLTE", func() []byte {
			cs := pngtest.Split(t, palette)
			return pngtest.Join(pngtest.InsertBefore(cs, "PLTE", pngtest.Chunk{Type: "tRNS", Data: []byte{1}}))
		}(), "neither"},
		{"PLTE after tRNS in RGB image", pngtest.Join(pngtest.InsertBefore(pngtest.InsertBefore(pngtest.Split(t, rgb), "IDAT", pngtest.Chunk{Type: "tRNS", Data: make([]byte, 6)}), "IDAT", pngtest.Chunk{Type: "PLTE", Data: make([]byte, 6)})), "neither"},
		{"PLTE then tRNS in RGB image", pngtest.Join(pngtest.InsertBefore(pngtest.InsertBefore(pngtest.Split(t, rgb), "IDAT", pngtest.Chunk{Type: "PLTE", Data: make([]byte, 6)}), "IDAT", pngtest.Chunk{Type: "tRNS", Data: make([]byte, 6)})), "both"},
		{"second IHDR", pngtest.Join(pngtest.InsertBefore(gcs, "IDAT", gcs[0])), "neither"},
		{"IDAT before PLTE", func() []byte {
			cs := pngtest.Split(t, palette)
			return pngtest.Join(append([]pngtest.Chunk{cs[0], cs[2], cs[1]}, cs[3:]...))
		}(), "neither"},
		{"IEND with data", func() []byte {
			cs := bytes.Clone(grey)
			return append(cs[:len(cs)-12], pngtest.Join([]pngtest.Chunk{{Type: "IEND", Data: []byte{0}}})[8:]...)
		}(), "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, perr := png.Decode(bytes.NewReader(tt.data))
			_, serr := Decode(tt.data, 1<<20)
			if perr == nil && serr == nil {
				compareStd(t, tt.data)
			}
			got := map[[2]bool]string{{true, true}: "both", {false, false}: "neither", {true, false}: "png", {false, true}: "spng"}[[2]bool{perr == nil, serr == nil}]
			t.Logf("image/png: %v; spng: %v", perr, serr)
			if got != tt.want {
				t.Errorf("%s decodes, want %s", got, tt.want)
			}
		})
	}
}
