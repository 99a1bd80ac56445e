//go:build cgo && spng

package spng

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/copycat-dev/copycat/ingest/internal/codec/internal/pngtest"
)

// chunk is one PNG chunk as split by splitChunks.
type chunk struct {
	typ  string
	data []byte
}

// splitChunks splits a well-formed PNG into its chunks.
func splitChunks(tb testing.TB, data []byte) []chunk {
	tb.Helper()
	var cs []chunk
	for p := 8; p < len(data); {
		n := int(binary.BigEndian.Uint32(data[p:]))
		cs = append(cs, chunk{string(data[p+4 : p+8]), data[p+8 : p+8+n]})
		p += 12 + n
	}
	return cs
}

// joinChunks writes chunks back into a PNG with correct CRCs.
func joinChunks(cs []chunk) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	for _, c := range cs {
		pngtest.WriteChunk(&out, c.typ, c.data)
	}
	return out.Bytes()
}

// idat returns the concatenated IDAT payload.
func idat(cs []chunk) []byte {
	var b []byte
	for _, c := range cs {
		if c.typ == "IDAT" {
			b = append(b, c.data...)
		}
	}
	return b
}

// withIDAT replaces the IDAT chunks by one holding z.
func withIDAT(cs []chunk, z []byte) []chunk {
	var out []chunk
	done := false
	for _, c := range cs {
		if c.typ != "IDAT" {
			out = append(out, c)
		} else if !done {
			out = append(out, chunk{"IDAT", z})
			done = true
		}
	}
	return out
}

// insertBefore inserts c before the first chunk of type typ.
func insertBefore(cs []chunk, typ string, c chunk) []chunk {
	for i := range cs {
		if cs[i].typ == typ {
			return append(cs[:i:i], append([]chunk{c}, cs[i:]...)...)
		}
	}
	return cs
}

func inflate(tb testing.TB, z []byte) []byte {
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

func deflate(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

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
	gcs := splitChunks(t, grey)
	text := chunk{"tEXt", []byte("Comment\x00hello")}
	tests := []struct {
		name string
		data []byte
		want string // "both", "neither", "png" (only image/png decodes)
	}{
		{"valid", grey, "both"},
		{"no IEND", joinChunks(gcs[:len(gcs)-1]), "neither"},
		{"trailing garbage after IEND", append(bytes.Clone(grey), "garbage"...), "both"},
		{"bad IDAT CRC", badCRC(grey, "IDAT"), "neither"},
		{"bad IEND CRC", badCRC(grey, "IEND"), "neither"},
		{"bad ancillary CRC before IDAT", badCRC(joinChunks(insertBefore(gcs, "IDAT", text)), "tEXt"), "neither"},
		{"bad ancillary CRC after IDAT", badCRC(joinChunks(insertBefore(gcs, "IEND", text)), "tEXt"), "neither"},
		{"bad Adler-32", func() []byte {
			z := bytes.Clone(idat(gcs))
			z[len(z)-1] ^= 1
			return joinChunks(withIDAT(gcs, z))
		}(), "neither"},
		{"bytes after the zlib stream", joinChunks(withIDAT(gcs, append(bytes.Clone(idat(gcs)), 0, 0, 0))), "both"},
		{"extra row in the zlib stream", joinChunks(withIDAT(gcs, deflate(append(inflate(t, idat(gcs)), make([]byte, 21)...)))), "spng"},
		{"one row short", joinChunks(withIDAT(gcs, deflate(inflate(t, idat(gcs))[:21*9]))), "neither"},
		{"unknown critical chunk", joinChunks(insertBefore(gcs, "IDAT", chunk{"ABCD", []byte{1}})), "png"},
		{"unknown ancillary chunk", joinChunks(insertBefore(gcs, "IDAT", chunk{"abCd", []byte{1}})), "both"},
		{"text between IDATs", func() []byte {
			z := idat(gcs)
			cs := withIDAT(gcs, z[:10])
			cs = insertBefore(cs, "IEND", text)
			return joinChunks(insertBefore(cs, "IEND", chunk{"IDAT", z[10:]}))
		}(), "neither"},
		{"IDAT after text after IDAT", joinChunks(insertBefore(insertBefore(gcs, "IEND", text), "IEND", chunk{"IDAT", nil})), "png"},
		{"PLTE in grey image", joinChunks(insertBefore(gcs, "IDAT", chunk{"PLTE", []byte{1, 2, 3}})), "neither"},
		{"grey tRNS out of range", joinChunks(insertBefore(gcs, "IDAT", chunk{"tRNS", []byte{1, 0}})), "both"},
		{"bad gAMA", joinChunks(insertBefore(gcs, "IDAT", chunk{"gAMA", []byte{0, 0, 0, 0}})), "both"},
		{"bad tIME", joinChunks(insertBefore(gcs, "IDAT", chunk{"tIME", []byte{0, 0, 99, 99, 99, 99, 99}})), "both"},
		{"tRNS longer than PLTE", func() []byte {
			return joinChunks(insertBefore(splitChunks(t, palette), "IDAT", chunk{"tRNS", make([]byte, 12)}))
		}(), "both"},
		{"PLTE longer than the bit depth allows", func() []byte {
			cs := splitChunks(t, palette)
			for i := range cs {
				if cs[i].typ == "PLTE" {
					cs[i].data = make([]byte, 3*17)
				}
			}
			return joinChunks(cs)
		}(), "neither"},
		{"palette index past PLTE", palette, "both"},
		{"tRNS in RGBA image", joinChunks(insertBefore(splitChunks(t, rgba), "IDAT", chunk{"tRNS", make([]byte, 6)})), "neither"},
		{"tRNS before PLTE", func() []byte {
			cs := splitChunks(t, palette)
			return joinChunks(insertBefore(cs, "PLTE", chunk{"tRNS", []byte{1}}))
		}(), "neither"},
		{"PLTE after tRNS in RGB image", joinChunks(insertBefore(insertBefore(splitChunks(t, rgb), "IDAT", chunk{"tRNS", make([]byte, 6)}), "IDAT", chunk{"PLTE", make([]byte, 6)})), "neither"},
		{"PLTE then tRNS in RGB image", joinChunks(insertBefore(insertBefore(splitChunks(t, rgb), "IDAT", chunk{"PLTE", make([]byte, 6)}), "IDAT", chunk{"tRNS", make([]byte, 6)})), "both"},
		{"second IHDR", joinChunks(insertBefore(gcs, "IDAT", gcs[0])), "neither"},
		{"IDAT before PLTE", func() []byte {
			cs := splitChunks(t, palette)
			return joinChunks(append([]chunk{cs[0], cs[2], cs[1]}, cs[3:]...))
		}(), "neither"},
		{"IEND with data", func() []byte {
			cs := bytes.Clone(grey)
			return append(cs[:len(cs)-12], joinChunks([]chunk{{"IEND", []byte{0}}})[8:]...)
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
