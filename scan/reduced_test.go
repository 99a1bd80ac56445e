package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestReducedDecodeFingerprints measures what decoding JPEG data at a
// reduced scale does to the fingerprints: for every JPEG photo of the
// corpus and the first frame of every JPEG-coded DICOM, the fingerprint a
// scan computes (decoded down to MinSide) against the one from the full
// decode, for MinSide 64, 128 and 256. The scan runs at hash.MinSide; that
// row is held to what was measured (see hash.MinSide): pHash within the
// bits goimagehash itself disagrees by, PDQ well inside its threshold.
func TestReducedDecodeFingerprints(t *testing.T) {
	corpus := testkit.Corpus(t)
	var files []string
	for _, pat := range []string{"natural/*/*.jp*g", "natural/*/*/*.jp*g", "dicom/*/*.dcm"} {
		m, _ := filepath.Glob(filepath.Join(corpus, pat))
		files = append(files, m...)
	}
	full := ingest.NewDecoder(ingest.Options{})
	defer full.Close()
	h := hash.NewHasher()
	type ref struct {
		path string
		data []byte
		fp   hash.Fingerprint
	}
	var refs []ref
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".dcm") && !jpegCoded(data) {
			continue
		}
		_, imgs, err := decodeImages(full, h, nil, data, &stageTimer{})
		if err != nil || len(imgs) == 0 {
			continue
		}
		refs = append(refs, ref{p, data, imgs[0].Fingerprint})
	}
	if len(refs) < 50 {
		t.Fatalf("only %d JPEG files decoded from %s", len(refs), corpus)
	}
	for _, minSide := range []int{64, 128, 256} {
		dec := ingest.NewDecoder(ingest.Options{MinSide: minSide})
		var pdq, ph, dh []int
		worst := ""
		worstD := -1
		for _, r := range refs {
			_, imgs, err := decodeImages(dec, h, nil, r.data, &stageTimer{})
			if err != nil || len(imgs) == 0 {
				t.Fatalf("%s at MinSide %d: %v", r.path, minSide, err)
			}
			fp := imgs[0].Fingerprint
			d := hash.DistancePDQ(fp.PDQ, r.fp.PDQ)
			if r.fp.PDQQuality >= hash.PDQMinQuality {
				pdq = append(pdq, d)
				if d > worstD {
					worstD, worst = d, r.path
				}
			}
			ph = append(ph, hash.Distance64(fp.PHash, r.fp.PHash))
			dh = append(dh, hash.Distance64(fp.DHash, r.fp.DHash))
		}
		dec.Close()
		t.Logf("MinSide %3d, %d files: PDQ (quality >= %d, n=%d) %s, worst %s; pHash %s; dHash %s",
			minSide, len(refs), hash.PDQMinQuality, len(pdq), summary(pdq), filepath.Base(worst), summary(ph), summary(dh))
		if minSide != hash.MinSide {
			continue
		}
		if got, p95 := slices.Max(pdq), percentile(pdq, 95); got > 28 || p95 > 16 {
			t.Errorf("MinSide %d: PDQ up to %d bits (p95 %d) from the full decode's (%s), want <= 28 (p95 <= 16)", minSide, got, p95, worst)
		}
		if got := slices.Max(ph); got > 4 {
			t.Errorf("MinSide %d: pHash up to %d bits from the full decode's, want <= 4", minSide, got)
		}
	}
}

// jpegCoded reports whether a DICOM file's transfer syntax is JPEG
// baseline or extended (8-bit DCT), the data a reduced decode applies to.
func jpegCoded(data []byte) bool {
	s := string(data[:min(len(data), 4096)])
	return strings.Contains(s, "1.2.840.10008.1.2.4.50\x00") || strings.Contains(s, "1.2.840.10008.1.2.4.50 ") ||
		strings.Contains(s, "1.2.840.10008.1.2.4.51")
}

// summary is "mean m p95 x max y" of distances.
func summary(ds []int) string {
	if len(ds) == 0 {
		return "none"
	}
	sum := 0
	for _, d := range ds {
		sum += d
	}
	return fmt.Sprintf("mean %.2f p95 %d max %d", float64(sum)/float64(len(ds)), percentile(ds, 95), slices.Max(ds))
}

// percentile is the p-th percentile of ds (nearest rank, from below).
func percentile(ds []int, p int) int {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*p/100]
}
