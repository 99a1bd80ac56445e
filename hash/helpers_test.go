package hash

import (
	"bufio"
	"image"
	_ "image/jpeg" // corpus and PDQ vectors
	_ "image/png"
	"os"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// decodeFile decodes a PNG or JPEG with the standard library.
func decodeFile(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// corpusImages lists the PNG and JPEG files under the shared corpus (DICOM
// is ingest's business), relative to the corpus root, sorted.
func corpusImages(tb testing.TB, subdirs ...string) (root string, rel []string) {
	tb.Helper()
	root, rel = testkit.CorpusFiles(tb, []string{".png", ".jpg", ".jpeg"}, subdirs...)
	if raceEnabled {
		// Under the race detector a spread-out tenth of the corpus checks the
		// code paths; the plain run (make test does one) measures them all.
		sample := rel[:0]
		for i, r := range rel {
			if i%10 == 0 {
				sample = append(sample, r)
			}
		}
		rel = sample
	}
	return root, rel
}

// tryDecode is decodeFile that reports failure instead of failing: a few
// corpus JPEGs (streams cut from DICOM without EOI) are undecodable by the
// standard library, which is ingest's concern, not this package's.
func tryDecode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	return img, err
}

// distStats summarises a list of Hamming distances.
type distStats struct {
	n, max int
	sum    int
	hist   map[int]int
}

func (s *distStats) add(d int) {
	if s.hist == nil {
		s.hist = map[int]int{}
	}
	s.n++
	s.sum += d
	s.max = max(s.max, d)
	s.hist[d]++
}

func (s *distStats) mean() float64 {
	if s.n == 0 {
		return 0
	}
	return float64(s.sum) / float64(s.n)
}

func (s *distStats) histString() string {
	var b strings.Builder
	for d := 0; d <= s.max; d++ {
		if c := s.hist[d]; c > 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(itoa(d) + ":" + itoa(c))
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// blockMeans returns the PDQ luma of img averaged over scale x scale blocks
// (edge blocks over the pixels they have), rounded to grey levels: what an
// ideal DCT-scaled JPEG decode at 1/scale gives.
func blockMeans(img image.Image, scale int) *image.Gray {
	b := img.Bounds()
	w, ht := b.Dx(), b.Dy()
	s := newPDQState()
	luma := make([]float32, w*ht)
	s.fillLuma(img, ht, w, luma)
	out := image.NewGray(image.Rect(0, 0, (w+scale-1)/scale, (ht+scale-1)/scale))
	for ty := range out.Rect.Dy() {
		for tx := range out.Rect.Dx() {
			var sum float64
			n := 0
			for y := ty * scale; y < min((ty+1)*scale, ht); y++ {
				for x := tx * scale; x < min((tx+1)*scale, w); x++ {
					sum += float64(luma[y*w+x])
					n++
				}
			}
			out.Pix[ty*out.Stride+tx] = uint8(sum/float64(n) + 0.5)
		}
	}
	return out
}
