// Package rle decodes DICOM RLE Lossless frames (transfer syntax
// 1.2.840.10008.1.2.5, PS3.5 annex G) for copycat's DICOM reader.
//
// A frame is a 64-byte header (the number of segments and 15 segment
// offsets, little-endian uint32) followed by the segments, each one byte
// plane compressed with PackBits. Segments come sample by sample, most
// significant byte first. Decode turns them back into the bytes an Explicit
// VR Little Endian file with Planar Configuration 0 would hold, so the
// caller treats the result like native pixel data.
//
// Robustness choices: a segment that decodes to more bytes than a plane
// needs is cut to size (encoders pad segments to an even length, and some
// emit a trailing run past the end of the last row); a segment that decodes
// to fewer bytes is an error, not zero-padded, since the missing samples
// would be invented. Headers are checked strictly: the segment count must
// match samples times bytes per sample, and offsets must increase and stay
// inside the data.
package rle

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/copycat-dev/copycat/ingest/internal/codec"
)

const (
	headerLen   = 64
	maxSegments = 15
)

// Decode decodes one RLE frame (its fragments concatenated) into native
// little-endian bytes, samples interleaved per pixel. bitsAllocated must be
// 8, 16 or 32; the result has rows*cols*samplesPerPixel*bitsAllocated/8
// bytes.
func Decode(data []byte, rows, cols, samplesPerPixel, bitsAllocated int) ([]byte, error) {
	if rows <= 0 || cols <= 0 || samplesPerPixel <= 0 {
		return nil, fmt.Errorf("rle: bad frame geometry %dx%dx%d", cols, rows, samplesPerPixel)
	}
	switch bitsAllocated {
	case 8, 16, 32:
	default:
		return nil, fmt.Errorf("rle: %d bits allocated: %w", bitsAllocated, codec.ErrUnsupported)
	}
	bps := bitsAllocated / 8
	nseg := samplesPerPixel * bps
	if nseg > maxSegments {
		return nil, fmt.Errorf("rle: %d samples of %d bits need %d segments, more than 15", samplesPerPixel, bitsAllocated, nseg)
	}
	plane := int64(rows) * int64(cols)
	if plane*int64(samplesPerPixel) > codec.MaxSamples {
		return nil, fmt.Errorf("rle: %dx%dx%d frame exceeds %d samples: %w", cols, rows, samplesPerPixel, codec.MaxSamples, codec.ErrTooLarge)
	}
	if len(data) < headerLen {
		return nil, fmt.Errorf("rle: %d bytes, shorter than the 64-byte header", len(data))
	}
	if n := int(binary.LittleEndian.Uint32(data)); n != nseg {
		return nil, fmt.Errorf("rle: header says %d segments, want %d for %d samples of %d bits", n, nseg, samplesPerPixel, bitsAllocated)
	}
	var offs [maxSegments + 1]int
	for i := 0; i < nseg; i++ {
		o := binary.LittleEndian.Uint32(data[4+4*i:])
		prev := headerLen
		if i > 0 {
			prev = offs[i-1] + 1
		}
		if int64(o) < int64(prev) || int64(o) >= int64(len(data)) {
			return nil, fmt.Errorf("rle: segment %d offset %d out of order or outside %d bytes", i, o, len(data))
		}
		offs[i] = int(o)
	}
	offs[nseg] = len(data)
	// PackBits turns 2 bytes into at most 128, so each segment must be big
	// enough to code a whole plane; check before allocating.
	for i := 0; i < nseg; i++ {
		if plane > 64*int64(offs[i+1]-offs[i])+128 {
			return nil, fmt.Errorf("rle: segment %d has %d bytes, too few for a %dx%d plane", i, offs[i+1]-offs[i], cols, rows)
		}
	}
	out := make([]byte, int(plane)*nseg)
	stride := nseg
	for i := 0; i < nseg; i++ {
		s, b := i/bps, i%bps // sample, byte (0 = most significant)
		pos := s*bps + (bps - 1 - b)
		if err := unpack(data[offs[i]:offs[i+1]], out, pos, stride, int(plane)); err != nil {
			return nil, fmt.Errorf("rle: segment %d: %w", i, err)
		}
	}
	return out, nil
}

var errShort = errors.New("segment ends before the plane is complete")

// unpack decodes one PackBits segment into n bytes of dst, starting at pos
// and stepping by stride. Output past n bytes is dropped.
func unpack(src, dst []byte, pos, stride, n int) error {
	got := 0
	for i := 0; got < n; {
		if i >= len(src) {
			return fmt.Errorf("%w (%d of %d bytes)", errShort, got, n)
		}
		h := int(int8(src[i]))
		i++
		switch {
		case h >= 0: // literal run of h+1 bytes
			k := min(h+1, n-got)
			if i+k > len(src) {
				return fmt.Errorf("%w (literal run past the end)", errShort)
			}
			if stride == 1 {
				copy(dst[pos+got:], src[i:i+k])
			} else {
				for j, v := range src[i : i+k] {
					dst[pos+(got+j)*stride] = v
				}
			}
			i += h + 1
			got += k
		case h != -128: // the next byte, repeated 1-h times
			if i >= len(src) {
				return fmt.Errorf("%w (replicate run past the end)", errShort)
			}
			v := src[i]
			i++
			k := min(1-h, n-got)
			if stride == 1 {
				run := dst[pos+got : pos+got+k]
				for j := range run {
					run[j] = v
				}
			} else {
				for j := 0; j < k; j++ {
					dst[pos+(got+j)*stride] = v
				}
			}
			got += k
		}
		// h == -128 is a no-op.
	}
	return nil
}
