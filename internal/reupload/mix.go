package reupload

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // the corpus's JPEGs
	_ "image/png"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
)

// EnvCorpus names the environment variable that overrides where
// FindCorpus looks.
const EnvCorpus = "COPYCAT_CORPUS"

// FindCorpus returns the development corpus folder: dir when it is not
// "", else $COPYCAT_CORPUS, else the first shared/corpus beside the
// working folder or one of its parents (the corpus lives in
// ../shared/corpus beside the repository). It returns ErrNoCorpus when
// the folder holds no MANIFEST.tsv.
func FindCorpus(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(EnvCorpus)
	}
	if dir != "" {
		if !fileExists(filepath.Join(dir, "MANIFEST.tsv")) {
			return "", fmt.Errorf("%w: no MANIFEST.tsv in %s", ErrNoCorpus, dir)
		}
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoCorpus, err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "corpus")
		if fileExists(filepath.Join(c, "MANIFEST.tsv")) {
			return c, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("%w: no shared/corpus/MANIFEST.tsv beside %s or its parents (set %s)", ErrNoCorpus, wd, EnvCorpus)
}

// corpusImage is a PNG or JPEG file of the corpus and its duplicate
// group: files of one group show the same picture.
type corpusImage struct {
	path  string // slash-separated, inside the corpus
	group string
}

// corpusExcluded are corpus files left out of ScenarioMix because whether
// they are copies is a policy choice the README leaves open (warped,
// rotated, bordered variants of one ITK slice; a photo with an object
// pasted in).
func corpusExcluded(p string) bool {
	base := path.Base(p)
	switch {
	case strings.HasPrefix(base, "BrainProtonDensitySlice") && base != "BrainProtonDensitySlice.png":
		return true
	case base == "BrainT1SliceBorder20.png", base == "ela_modified.jpg":
		return true
	}
	return false
}

// corpusGroup names the duplicate group of a corpus file, from the
// README's known groups: the go-stdlib encodings of video-001 are one
// picture, and so are the three of video-005; files with equal decoded
// pixels (pixel_sha256_16) are one picture. The README calls video-005
// video-001's grey version, but it is another frame (a toy on a desk, not
// two people on a stage; looked at side by side, 2026-12-07): 28 pHash
// bits apart.
func corpusGroup(p, pixels string) string {
	for _, g := range []string{"video-001", "video-005"} {
		if strings.HasPrefix(p, "natural/go-stdlib-variants/"+g+".") {
			return g
		}
	}
	return "px:" + pixels
}

// readCorpus lists the corpus's PNG and JPEG images under natural/ and
// medical_png_jpeg/ that ScenarioMix uses, in MANIFEST order.
func readCorpus(dir string) ([]corpusImage, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	col := map[string]int{}
	var out []corpusImage
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(col) == 0 {
			for i, h := range fields {
				col[h] = i
			}
			for _, h := range []string{"path", "format", "pixel_sha256_16"} {
				if _, ok := col[h]; !ok {
					return nil, fmt.Errorf("%s: no %q column", f.Name(), h)
				}
			}
			continue
		}
		get := func(h string) string {
			if i := col[h]; i < len(fields) {
				return fields[i]
			}
			return ""
		}
		p, format := get("path"), get("format")
		if format != "PNG" && format != "JPEG" || corpusExcluded(p) {
			continue
		}
		if !strings.HasPrefix(p, "natural/") && !strings.HasPrefix(p, "medical_png_jpeg/") {
			continue
		}
		out = append(out, corpusImage{path: p, group: corpusGroup(p, get("pixel_sha256_16"))})
	}
	return out, sc.Err()
}

// mixSources is how many corpus images each re-upload of ScenarioMix
// takes; mixPhotoShare the part of the corpus in the photo dataset (the
// rest are distractors).
const (
	mixSources    = 12
	mixPhotoShare = 0.6
)

// mix builds ScenarioMix.
func (g *gen) mix(cfg Config) error {
	if cfg.Corpus == "" {
		return fmt.Errorf("%w: no corpus folder given", ErrNoCorpus)
	}
	all, err := readCorpus(cfg.Corpus)
	if err != nil {
		return err
	}
	// Only images Go decodes: copycat reads files the same way.
	var ims []corpusImage
	var decoded []image.Image
	for _, c := range all {
		img, err := imaging.Open(filepath.Join(cfg.Corpus, filepath.FromSlash(c.path)))
		if err != nil {
			g.truth.Skipped = append(g.truth.Skipped, c.path+": "+err.Error())
			continue
		}
		ims = append(ims, c)
		decoded = append(decoded, img)
	}
	order := g.rng.Perm(len(ims))
	nPhoto := int(math.Round(float64(len(ims)) * mixPhotoShare))
	photos, others := order[:nPhoto], order[nPhoto:]
	name := func(i int) string { return strings.ReplaceAll(ims[i].path, "/", "_") }
	copyAs := func(ds, label string, idx []int) error {
		g.dataset(ds)
		for _, i := range idx {
			data, err := os.ReadFile(filepath.Join(cfg.Corpus, filepath.FromSlash(ims[i].path)))
			if err != nil {
				return err
			}
			if err := g.image(ds, name(i), "photo:"+ims[i].group, 0, label, data); err != nil {
				return err
			}
		}
		return nil
	}
	if err := copyAs("mix-photos", TPhoto, photos); err != nil {
		return err
	}
	if err := copyAs("mix-unrelated", TUnrelated, others); err != nil {
		return err
	}
	jpgName := func(i int) string { return strings.TrimSuffix(name(i), path.Ext(name(i))) + ".jpg" }
	pngName := func(i int) string { return strings.TrimSuffix(name(i), path.Ext(name(i))) + ".png" }
	reuploads := []struct {
		ds, label string
		make      func(img image.Image, i int) (string, []byte, error)
	}{
		{"mix-resize50", TResize50, func(img image.Image, i int) (string, []byte, error) {
			b := img.Bounds()
			out := imaging.Resize(img, max(1, b.Dx()/2), max(1, b.Dy()/2), imaging.Lanczos)
			data, err := encodePNG(out)
			return pngName(i), data, err
		}},
		{"mix-jpeg75", TJPEG75, func(img image.Image, i int) (string, []byte, error) {
			data, err := encodeJPEG(img, 75)
			return jpgName(i), data, err
		}},
		{"mix-squash224", TSquash224, func(img image.Image, i int) (string, []byte, error) {
			data, err := encodeJPEG(imaging.Resize(img, 224, 224, imaging.Lanczos), 85)
			return jpgName(i), data, err
		}},
		{"mix-flip", TFlipLR, func(img image.Image, i int) (string, []byte, error) {
			data, err := encodePNG(imaging.FlipH(img))
			return pngName(i), data, err
		}},
		{"mix-crop4", TCrop4, func(img image.Image, i int) (string, []byte, error) {
			b := img.Bounds()
			dx, dy := int(math.Round(0.04*float64(b.Dx()))), int(math.Round(0.04*float64(b.Dy())))
			out := imaging.Crop(img, image.Rect(b.Min.X+dx, b.Min.Y+dy, b.Max.X-dx, b.Max.Y-dy))
			data, err := encodeJPEG(out, 90)
			return jpgName(i), data, err
		}},
	}
	for _, r := range reuploads {
		g.dataset(r.ds)
		picked := g.pickSorted(len(photos), mixSources)
		for _, k := range picked {
			i := photos[k]
			rel, data, err := r.make(decoded[i], i)
			if err != nil {
				return fmt.Errorf("%s %s: %w", r.ds, ims[i].path, err)
			}
			if err := g.image(r.ds, rel, "photo:"+ims[i].group, 0, r.label, data); err != nil {
				return err
			}
		}
		g.truth.Edges = append(g.truth.Edges, Edge{Original: "mix-photos", Copy: r.ds, Shared: len(picked)})
	}

	// DICOM originals among the photos: a short MR series and its renders.
	s, err := g.series(cfg.Main, VolumeMain, seriesOptions{n: 32, sliceMM: 1})
	if err != nil {
		return err
	}
	if err := g.writeSeries("mix-mr-dicom", s, "REUPLOAD-0401", "T1 axial (ch2better)"); err != nil {
		return err
	}
	if _, _, err := g.writeWindowPNGs("mix-mr-png", "mix-mr-dicom", s); err != nil {
		return err
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: "mix-mr-dicom", Copy: "mix-mr-png", Shared: len(s.slices)})
	return nil
}
