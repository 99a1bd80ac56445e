package jpegscale

import "github.com/copycat-dev/copycat/ingest/internal/codec/jpegbits"

// endSlack is the invented zero bits a scan may consume when the data
// simply stops (no marker, so no EOI either): none. An encoder pads its
// last byte with ones, so a stream that ends without EOI and still needs
// bits has lost its tail, even when the zeros happen to decode (a last
// chroma block's DC 0 and end-of-block codes take four zero bits). At a
// marker the usual jpegbits.OverrunSlack applies.
const endSlack = 0

// lutBits is the width of the fast tables. Nearly all codes in real
// streams are at most 10 bits long, and most AC code+magnitude pairs fit
// too, so one table read decodes a coefficient.
const lutBits = 10

// Fast-table entries pack, for the lutBits-bit prefix that indexes them:
// bits 0-4 the number of bits the entry consumes, bits 8-15 the zero run
// (or fastEOB), bits 16-31 the signed coefficient value. Zero means "take
// the slow path" (jpegbits.Table.Lookup).
const (
	fastEOB     = 0x40
	fastLenMask = 0x1F
)

// huffTable is a decoding table built from a DHT segment: the shared
// symbol table plus jpegscale's own coefficient lookup, which decodes a
// code and its magnitude bits at once.
type huffTable struct {
	jpegbits.Table
	defined bool
	ac      bool                // AC table: symbol 0x00 is end-of-block
	fast    [1 << lutBits]int32 // code+magnitude prefix -> packed entry; see fastEOB
}

// build fills t from the 16 code-length counts and the symbol values of a
// DHT table, rejecting counts that do not form a prefix code.
func (t *huffTable) build(counts *[16]byte, vals []byte, ac bool) error {
	t.defined, t.ac = false, ac
	if err := t.Build(counts, vals); err != nil {
		return err
	}
	t.fast = [1 << lutBits]int32{}
	for c := range t.Codes() {
		if c.Len <= lutBits {
			t.fillFast(c.Bits, c.Len, c.Sym)
		}
	}
	t.defined = true
	return nil
}

// fillFast adds the fast entries of one code of length l for symbol s: one
// per value of the magnitude bits that follow when code and magnitude fit
// in lutBits together.
func (t *huffTable) fillFast(code int32, l uint, s byte) {
	run, size := uint(s>>4), uint(s&15)
	if !t.ac {
		run, size = 0, uint(s) // DC: the symbol is the magnitude category
		if size > 15 {
			return
		}
	}
	shift := lutBits - l
	switch {
	case t.ac && s == 0x00:
		// End of block: no magnitude bits.
		e := int32(l) | fastEOB<<8
		for j := int32(0); j < 1<<shift; j++ {
			t.fast[code<<shift|j] = e
		}
	case t.ac && size == 0:
		// ZRL and (progressive) EOB runs: slow path.
	case l+size <= lutBits:
		rest := shift - size // prefix bits after code and magnitude
		for m := int32(0); m < 1<<size; m++ {
			v := jpegbits.Extend(m, size)
			e := int32(l+size) | int32(run)<<8 | v<<16
			base := (code<<size | m) << rest
			for j := int32(0); j < 1<<rest; j++ {
				t.fast[base|j] = e
			}
		}
	}
}
