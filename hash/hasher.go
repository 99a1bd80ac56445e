package hash

import (
	"image"
	"math"
)

// Hasher computes fingerprints. It owns all the scratch memory the hashes
// need, so after the first few images (buffers grow to the widest row seen)
// it allocates nothing, except what a foreign image type's At method
// allocates. A Hasher is not safe for concurrent use: the scan pipeline
// gives each worker its own.
type Hasher struct {
	// Exact-area luma grid shared by pHash, dHash, aHash and the thumbnail.
	bx, by axisBins
	rowSum [gridExt]uint64
	acc    [gridExt]uint64            // one grid row of integer sums
	grid   [gridExt * gridExt]float64 // row-major, with a 1-cell border (see gridExt)
	buf16  []uint16
	buf32  []uint32

	// goimagehash-style resizes (from the grid, or from the pixels).
	tx64, ty64     tentAxis
	tx8, ty8, tx9  tentAxis
	tmp            [aSize * max(gridExt, maxDirect)]float64 // up to 8 rows of a vertical resize, either path
	p64            [pSize * pSize]float64
	a8             [aSize * aSize]float64
	d9             [dH * dW]float64
	th             [ThumbSize * ThumbSize]float64 // thumbnail averages, before rounding
	cos            *dct8
	coef, dih, srt [64]float64

	// The direct path for small 8-bit images (direct.go).
	dx, dy   directAxis
	dpix     []float64 // the image's pixels as float64
	gridOnly bool      // tests: take the grid path whatever the image

	pdqs *pdqState // allocated on first use: 2 MB of float32 buffers

	// mappedPDQ takes full-size images through the mapped PDQ filter too
	// (NewScanHasher).
	mappedPDQ bool

	// reduced is what ComputeReduced was told while it runs: the image is
	// a decode at 1/scale of a width x height original. Zero otherwise.
	reduced struct{ scale, width, height int }
}

// NewHasher returns a Hasher ready for use. Its PDQ of a full-size image
// is the reference implementation's, bit for bit.
func NewHasher() *Hasher {
	return &Hasher{cos: newDCT8()}
}

// NewScanHasher returns a Hasher for a scan: Compute takes full-size
// images through the mapped PDQ filter that reduced decodes use
// (pdqreduced.go) instead of the reference's four box-filter passes. It is
// 6x faster at 224x224 (49 µs against 299 µs) and 4x at 1024x1024
// (0.32 ms against 1.25 ms), and its hashes are the reference's on every
// corpus image with a usable PDQ quality (TestPDQMappedCorpus), within 2
// bits on the reference's test images (TestPDQMappedFullSize). A scan
// also compares full-size images with reduced decodes, which this path
// already hashes; `copycat hash` keeps NewHasher's exact PDQ.
func NewScanHasher() *Hasher {
	h := NewHasher()
	h.mappedPDQ = true
	return h
}

// Compute returns the complete fingerprint of img: all hashes, the
// dihedral pHash variants and the thumbnail. The image is read twice: once
// for the 64-bit hashes and the thumbnail (into the shared luma grid, or
// straight from the pixels when it is small: direct.go) and once, sampled
// to at most 512x512, for PDQ. A nil or empty image gives the zero
// Fingerprint.
func (h *Hasher) Compute(img image.Image) Fingerprint {
	return h.ComputeReduced(img, 1, 0, 0)
}

// ComputeReduced is Compute for img decoded at 1/scale (2, 4 or 8, as a
// DCT-scaled JPEG decode) of a width x height original. The 64-bit hashes
// and the thumbnail are computed from img over the original's extent: a
// last row or column of img that stands for fewer than scale of the
// original's is weighted by what it stands for (see axisBins). PDQ maps
// its filter onto the reduced pixels so that the hash stays close to the
// full-size image's (see pdqreduced.go). scale <= 1 is Compute.
func (h *Hasher) ComputeReduced(img image.Image, scale, width, height int) Fingerprint {
	if scale > 1 {
		h.reduced.scale, h.reduced.width, h.reduced.height = scale, width, height
		defer func() { h.reduced.scale, h.reduced.width, h.reduced.height = 0, 0, 0 }()
	}
	fp, ok := h.preview(img)
	if !ok {
		return fp
	}
	if h.pdqs != nil {
		// An image too small for PDQ returns before hashB64 sets zeros:
		// the previous image's count must not leak into this one (it did,
		// making a 3x3 DICOM's record depend on which file the worker
		// hashed before it).
		h.pdqs.zeros = 0
	}
	fp.PDQ, fp.PDQQuality = h.pdqReduced(img, scale, width, height)
	if h.pdqs != nil {
		fp.PDQZeros = h.pdqs.zeros
	}
	return fp
}

// Preview returns img's fingerprint without PDQ (PDQ zero, quality 0):
// everything that comes from the one resize pass, at a fraction of
// Compute's cost on a large image, where PDQ's full-size filter dominates.
// It serves decisions such as whether a second rendering of a frame
// differs enough from the first to be worth a Compute of its own.
func (h *Hasher) Preview(img image.Image) Fingerprint {
	fp, _ := h.preview(img)
	return fp
}

// preview is Preview, and whether img had pixels to hash.
func (h *Hasher) preview(img image.Image) (fp Fingerprint, ok bool) {
	if img == nil || !h.resize(img, needAll) {
		return fp, false
	}
	fp.Dihedral = h.phashResized()
	fp.PHash = fp.Dihedral[Identity]
	fp.AHash, fp.DHash = h.adHashResized()
	h.thumbResized(&fp.Thumb)
	return fp, true
}

// PHash returns the 64-bit DCT perceptual hash of img, bit-compatible in
// layout with goimagehash.PerceptionHash and within a few bits of its value
// (see the package documentation). A nil or empty image hashes to 0.
func (h *Hasher) PHash(img image.Image) uint64 {
	return h.Dihedral(img)[Identity]
}

// Dihedral returns the pHash of img under each of the 8 rotations and
// mirrors, indexed by Identity, Rot90, ... Transverse. They are derived from
// one set of DCT coefficients, so they cost little more than PHash.
func (h *Hasher) Dihedral(img image.Image) [8]uint64 {
	if img == nil || !h.resize(img, needPHash) {
		return [8]uint64{}
	}
	return h.phashResized()
}

// DHash returns the 64-bit difference hash of img, goimagehash's
// DifferenceHash: a 9x8 resize, bit set where a pixel is darker than its
// right neighbour.
func (h *Hasher) DHash(img image.Image) uint64 {
	if img == nil || !h.resize(img, needADHash) {
		return 0
	}
	_, d := h.adHashResized()
	return d
}

// AHash returns the 64-bit average hash of img, goimagehash's AverageHash:
// an 8x8 resize, bit set where a pixel is brighter than the mean.
func (h *Hasher) AHash(img image.Image) uint64 {
	if img == nil || !h.resize(img, needADHash) {
		return 0
	}
	a, _ := h.adHashResized()
	return a
}

// PDQ returns the 256-bit PDQ hash of img and its quality (0-100), as
// Meta's reference pdq-photo-hasher computes them for the same pixels:
// hex.EncodeToString(hash[:]) is the reference's 64-digit text. Images
// larger than 512 pixels on either side are first squashed to 512x512 by
// nearest-neighbour sampling, as the reference tool does; images smaller than
// 5 pixels on either side hash to zero with quality 0.
func (h *Hasher) PDQ(img image.Image) ([32]byte, int) {
	if img == nil {
		return [32]byte{}, 0
	}
	return h.pdq(img)
}

// Thumbnail returns the ThumbSize x ThumbSize grey thumbnail of img: the
// exact-area average luma of each of 32x32 equal cells, so a non-square
// image is squashed to a square.
func (h *Hasher) Thumbnail(img image.Image) [ThumbSize * ThumbSize]uint8 {
	var t [ThumbSize * ThumbSize]uint8
	if img == nil || !h.resize(img, needThumb) {
		return t
	}
	h.thumbResized(&t)
	return t
}

// What resize computes: the resized images the 64-bit hashes threshold and
// the thumbnail's averages.
const (
	needPHash  = 1 << iota // h.p64
	needADHash             // h.a8, h.d9
	needThumb              // h.th
	needAll    = needPHash | needADHash | needThumb
)

// resize fills what need asks for from img: h.p64, the 64x64 resize of
// goimagehash's pHash; h.a8 and h.d9, the 8x8 and 9x8 of its aHash and
// dHash; h.th, the exact-area 32x32 average. A small 8-bit grey image is
// resized straight from its pixels (direct.go), any other through the
// luma grid. It reports false for an image with no pixels to read.
func (h *Hasher) resize(img image.Image, need int) bool {
	if p, ok := smallLuma(img); ok && !h.gridOnly {
		h.resizeDirect(p, need)
		return true
	}
	if !h.buildGrid(img) {
		return false
	}
	if need&needPHash != 0 {
		h.ty64.set(h.by.ext, pSize)
		h.tx64.set(h.bx.ext, pSize)
		// Four rows at a time, so the intermediate rows stay in the L1
		// cache.
		for o := 0; o < pSize; o += 4 {
			resampleRows(&h.ty64, o, o+4, h.grid[:], gridExt, h.tmp[:4*gridExt])
			resampleCols(&h.tx64, h.tmp[:4*gridExt], 4, h.p64[o*pSize:(o+4)*pSize])
		}
	}
	if need&needADHash != 0 {
		// aHash and dHash share the vertical resize to 8 rows.
		h.ty8.set(h.by.ext, aSize)
		h.tx8.set(h.bx.ext, aSize)
		h.tx9.set(h.bx.ext, dW)
		resampleRows(&h.ty8, 0, aSize, h.grid[:], gridExt, h.tmp[:aSize*gridExt])
		resampleCols(&h.tx8, h.tmp[:aSize*gridExt], aSize, h.a8[:])
		resampleCols(&h.tx9, h.tmp[:aSize*gridExt], dH, h.d9[:])
	}
	if need&needThumb != 0 {
		h.gridThumb()
	}
	return true
}

// phashResized takes the 8x8 low-frequency DCT block of h.p64 and
// thresholds it and its 7 dihedral variants.
func (h *Hasher) phashResized() [8]uint64 {
	h.phashBlock()
	var d [8]uint64
	var med [8]float64
	for _, k := range [4]int{Identity, FlipH, FlipV, Rot180} {
		dihedralCoef(k, &h.coef, &h.dih)
		med[k] = median64(&h.dih, &h.srt)
		d[k] = threshold64(&h.dih, med[k])
	}
	// The transposing variants hold the same values as a mirroring one,
	// only moved: they share its median (half the sorting).
	for _, p := range [4][2]int{{Transpose, Identity}, {Rot90, FlipH}, {Rot270, FlipV}, {Transverse, Rot180}} {
		dihedralCoef(p[0], &h.coef, &h.dih)
		d[p[0]] = threshold64(&h.dih, med[p[1]])
	}
	return d
}

// adHashResized computes aHash from h.a8 and dHash from h.d9.
func (h *Hasher) adHashResized() (ahash, dhash uint64) {
	// goimagehash compares the uint8 pixels of its resize, so pixels less
	// than a grey level apart often tie (no bit). Rounding to whole grey
	// levels reproduces most of those ties: it halves the disagreement of
	// dHash with goimagehash on the corpus compared with comparing the exact
	// values. (What is left comes from nfnt truncating after each of its
	// two passes, which needs a full-resolution pass per channel to
	// reproduce.)
	var sum float64
	for i, v := range h.a8 {
		v = math.Round(v)
		h.a8[i] = v
		sum += v
	}
	mean := sum / float64(len(h.a8))
	for i, v := range h.a8 {
		if v > mean {
			ahash |= 1 << (63 - i)
		}
	}
	for i, v := range h.d9 {
		h.d9[i] = math.Round(v)
	}
	for r := range dH {
		row := h.d9[r*dW : (r+1)*dW]
		for c := range dW - 1 {
			if row[c] < row[c+1] {
				dhash |= 1 << (63 - (r*(dW-1) + c))
			}
		}
	}
	return ahash, dhash
}

// gridThumb pools the grid 4x4 into h.th. Grid cells have equal areas, so
// this is still the exact-area average.
func (h *Hasher) gridThumb() {
	const f = gridSize / ThumbSize
	for ty := range ThumbSize {
		// Row by row, adding in the same order as cell by cell would (row
		// y's f values, then row y+1's), so the rounding is the same.
		var s [ThumbSize]float64
		for y := 1 + ty*f; y < 1+(ty+1)*f; y++ {
			row := (*[gridSize]float64)(h.grid[y*gridExt+1:])
			for tx := range s {
				c := (*[f]float64)(row[tx*f:])
				s[tx] = s[tx] + c[0] + c[1] + c[2] + c[3]
			}
		}
		for tx, v := range s {
			h.th[ty*ThumbSize+tx] = v / (f * f)
		}
	}
}

// thumbResized rounds h.th into the thumbnail, halves up. An average of
// 8-bit pixels is often exactly k+0.5, and the grid and direct paths add
// in different orders, leaving it a rounding error (1e-13) above or below:
// the nudge makes both round it up, as exact arithmetic would.
func (h *Hasher) thumbResized(t *[ThumbSize * ThumbSize]uint8) {
	const nudge = 1e-9
	for i, v := range h.th {
		t[i] = uint8(min(max(math.Round(v+nudge), 0), 255))
	}
}
