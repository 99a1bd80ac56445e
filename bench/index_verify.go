package bench

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
	"github.com/copycat-dev/copycat/internal/corpusinfo"
	"github.com/copycat-dev/copycat/match"
)

// VerifyConfig is the verification study: on a folder of real images (the
// shared corpus), it measures how the index's verification separates true
// copies (ImageMagick re-encodings, resizes, crops; known lossy copies)
// from images that are merely alike (adjacent slices of a series,
// consecutive frames of a clip, stereo pairs). The index's default
// thresholds come from its output.
type VerifyConfig struct {
	Corpus string // folder of DICOM, PNG and JPEG files
	// Copies is how many images get ImageMagick copies; 0 means 40.
	Copies int
	// FramesPerFile bounds the consecutive-frame pairs taken from one
	// multi-frame file; 0 means 8.
	FramesPerFile int
	// Verify is the thresholds to report acceptance for (zero: defaults).
	Verify match.Thresholds
}

// VerifyPair is one measured pair.
type VerifyPair struct {
	Category string
	A, B     string // corpus path#frame, or path+operation for copies
	V        match.Verification
	Accepted bool // by cfg.Verify and the index's same-acquisition rule
	// SameAcquisition: frames of one file or numbered sequence, or
	// instances of one DICOM series, which the index never calls
	// near-duplicate copies (match.SameAcquisition).
	SameAcquisition bool
}

// VerifyCategory summarises the pairs of one category.
type VerifyCategory struct {
	Name       string
	Copies     bool // pairs that should be called copies
	N          int
	Candidates int // pHash within index.DefaultMaxDistance
	Thumbs     int // candidates that pass the thumbnail and PDQ thresholds
	Accepted   int // and the same-acquisition rule
	PHash      [3]float64
	PDQ        [3]float64 // over pairs where PDQ is trusted
	Corr       [3]float64
	Diff       [3]float64
}

// copyOp is an ImageMagick operation that makes a benign copy, with the
// transform under which the copy matches.
type copyOp struct {
	name, ext string
	args      []string
	transform match.Transform
}

func copyOps() []copyOp {
	return []copyOp{
		{"png-reencode", ".png", nil, 0},
		{"jpeg-q90", ".jpg", []string{"-quality", "90"}, 0},
		{"jpeg-q75", ".jpg", []string{"-quality", "75"}, 0},
		{"jpeg-q50", ".jpg", []string{"-quality", "50"}, 0},
		{"resize-50%", ".png", []string{"-resize", "50%"}, 0},
		{"squash-224", ".png", []string{"-resize", "224x224!"}, 0},
		{"crop-2%", ".png", []string{"-gravity", "center", "-crop", "96%x96%+0+0", "+repage"}, 0},
		{"gamma-1.2", ".png", []string{"-gamma", "1.2"}, 0},
		{"depth-8", ".png", []string{"-depth", "8"}, 0},
		{"flop", ".png", []string{"-flop"}, match.FlipH},
	}
}

// studyFrame is one decoded, fingerprinted frame.
type studyFrame struct {
	rel    string
	copied bool // an ImageMagick copy: a dataset of its own
	frame  int
	frames int
	meta   ingest.Meta
	fp     hash.Fingerprint
	pix    [32]byte
}

func (f *studyFrame) name() string { return fmt.Sprintf("%s#%d", f.rel, f.frame) }

// acquisition is what match.SameAcquisition reads of f: the corpus is one
// dataset, the copies another.
func (f *studyFrame) acquisition() match.Acquisition {
	ds := "corpus"
	if f.copied {
		ds = "copies"
	}
	return match.Acquisition{Dataset: ds, Path: f.rel, Format: string(f.meta.Format), Width: f.meta.Width, Height: f.meta.Height,
		SOP: f.meta.SOPInstanceUID, Series: f.meta.SeriesInstanceUID}
}

// RunVerify runs the study and writes its table to w.
func RunVerify(ctx context.Context, cfg VerifyConfig, w io.Writer) ([]VerifyCategory, []VerifyPair, error) {
	if cfg.Copies <= 0 {
		cfg.Copies = 40
	}
	if cfg.FramesPerFile <= 0 {
		cfg.FramesPerFile = 8
	}
	h := hash.NewHasher()
	// Decode as a scan does, JPEG data reduced down to hash.MinSide: the
	// fingerprints the index holds are what verification sees.
	dec := ingest.NewDecoder(ingest.Options{MinSide: hash.MinSide})
	defer dec.Close()
	var frames []*studyFrame
	byName := map[string]*studyFrame{}
	var files []string
	err := filepath.WalkDir(cfg.Corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".md" || ext == ".tsv" || ext == ".txt" {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	for _, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		rel, _ := filepath.Rel(cfg.Corpus, p)
		rel = filepath.ToSlash(rel)
		var got []*studyFrame
		meta, err := dec.Decode(data, func(f ingest.Frame) error {
			// Consecutive-frame pairs need the first frames only.
			if f.Index > cfg.FramesPerFile {
				return nil
			}
			got = append(got, &studyFrame{rel: rel, frame: f.Index, fp: fingerprint(h, f), pix: ingest.FrameDigest(f)})
			return nil
		})
		if err != nil {
			continue // unsupported or corrupt: not part of the study
		}
		for _, f := range got {
			f.meta, f.frames = meta, meta.Frames
			frames = append(frames, f)
			byName[f.name()] = f
		}
	}
	fmt.Fprintf(w, "verification study: %d frames from %d files of %s\n", len(frames), len(files), cfg.Corpus)

	var pairs []VerifyPair
	add := func(cat string, a, b *studyFrame, t match.Transform) {
		v := match.Verify(&a.fp, &b.fp, t)
		same := match.SameAcquisition(a.acquisition(), b.acquisition())
		pairs = append(pairs, VerifyPair{Category: cat, A: a.name(), B: b.name(), V: v, SameAcquisition: same})
	}
	// Consecutive frames of multi-frame files.
	for i := 1; i < len(frames); i++ {
		a, b := frames[i-1], frames[i]
		if a.rel == b.rel && b.frame == a.frame+1 && a.pix != b.pix {
			add("consecutive frames of a clip", a, b, 0)
		}
	}
	// Adjacent slices: single-frame DICOMs of one series, in path order,
	// with different pixels.
	series := map[string][]*studyFrame{}
	for _, f := range frames {
		if f.frames == 1 && f.meta.SeriesInstanceUID != "" {
			series[f.meta.SeriesInstanceUID] = append(series[f.meta.SeriesInstanceUID], f)
		}
	}
	for _, s := range series {
		for i := 1; i < len(s); i++ {
			if s[i-1].pix != s[i].pix && s[i-1].meta.SOPInstanceUID != s[i].meta.SOPInstanceUID {
				add("adjacent slices of a series", s[i-1], s[i], 0)
			}
		}
	}
	// Hard negatives, and every other pair of distinct images among the
	// photos and exported medical images (the robustness study's set in
	// hash/): first frames only, copies of one picture left out.
	for i, a := range frames {
		if a.frame != 0 {
			continue
		}
		for _, b := range frames[i+1:] {
			if b.frame != 0 || a.rel == b.rel {
				continue
			}
			ga := corpusinfo.SameGroup(a.rel)
			switch {
			case corpusinfo.HardNegative(a.rel, b.rel):
				add("similar but distinct (README)", a, b, 0)
			case ga != "" && ga == corpusinfo.SameGroup(b.rel):
			case distinctSet(a.rel) && distinctSet(b.rel):
				add("distinct images (photos, PNG/JPEG)", a, b, 0)
			}
		}
	}
	// Known lossy copies: the Go test photo's encodings, and JPEG frames
	// extracted from ultrasound DICOMs.
	known := func(a, b string) {
		fa, fb := byName[a], byName[b]
		if fa != nil && fb != nil && fa.pix != fb.pix {
			add("known lossy copies (README)", fa, fb, 0)
		}
	}
	for _, f := range frames {
		switch {
		case strings.HasPrefix(f.rel, "natural/go-stdlib-variants/video-001.") && f.rel != "natural/go-stdlib-variants/video-001.png":
			known("natural/go-stdlib-variants/video-001.png#0", f.name())
		case strings.HasPrefix(f.rel, "natural/go-stdlib-variants/video-005.") && f.rel != "natural/go-stdlib-variants/video-005.gray.png":
			known("natural/go-stdlib-variants/video-005.gray.png#0", f.name())
		case strings.HasPrefix(f.rel, "medical_png_jpeg/extracted_from_dicom/grailbio_"):
			src := strings.TrimSuffix(strings.TrimPrefix(f.rel, "medical_png_jpeg/extracted_from_dicom/grailbio_"), "_frame1.jpg")
			known("dicom/grailbio/"+src+"#0", f.name())
		}
	}
	known("dicom/pydicom/JPEG-lossy.dcm#0", "dicom/pydicom/JPGExtended.dcm#0")
	// ImageMagick copies of a spread-out sample.
	if isImageMagick() {
		var sample []*studyFrame
		step := max(1, len(frames)/cfg.Copies)
		for i := 0; i < len(frames) && len(sample) < cfg.Copies; i += step {
			// A copy of an image smaller than the thumbnail (the corpus
			// has 3x3 and 16x16 test DICOMs) or of a featureless one says
			// nothing about copies people make: the first is upsampled
			// for the thumbnail, the second cannot be verified by design.
			f := frames[i]
			if f.frame == 0 && min(f.meta.Width, f.meta.Height) >= hash.ThumbSize && !match.Verify(&f.fp, &f.fp, match.Identity).Flat {
				sample = append(sample, f)
			}
		}
		tmp, err := os.MkdirTemp("", "copycat-verify-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(tmp)
		for _, f := range sample {
			if err := copyStudy(ctx, cfg.Corpus, tmp, f, h, dec, func(op string, c *studyFrame, t match.Transform) {
				c.rel, c.copied = f.rel+" "+op, true
				add("ImageMagick copy: "+op, f, c, t)
			}); err != nil {
				return nil, nil, err
			}
		}
	} else {
		fmt.Fprintln(w, "ImageMagick (convert) not found: no copies made")
	}

	vo := cfg.Verify
	for i := range pairs {
		pairs[i].Accepted = pairs[i].V.PHashDistance <= index.DefaultMaxDistance && !pairs[i].SameAcquisition && vo.Accept(pairs[i].V)
	}
	cats := summarise(pairs)
	fmt.Fprintf(w, "%-38s %5s %6s %6s %6s  %-14s %-14s %-17s %-17s\n", "pairs", "n", "pH<=8", "thumbs", "accept", "pHash min/med/max", "PDQ", "thumb corr", "thumb diff")
	for _, c := range cats {
		fmt.Fprintf(w, "%-38s %5d %6d %6d %6d  %-14s %-14s %-17s %-17s\n", c.Name, c.N, c.Candidates, c.Thumbs, c.Accepted,
			fmt.Sprintf("%.0f/%.0f/%.0f", c.PHash[0], c.PHash[1], c.PHash[2]),
			fmt.Sprintf("%.0f/%.0f/%.0f", c.PDQ[0], c.PDQ[1], c.PDQ[2]),
			fmt.Sprintf("%.3f/%.3f/%.3f", c.Corr[0], c.Corr[1], c.Corr[2]),
			fmt.Sprintf("%.3f/%.3f/%.3f", c.Diff[0], c.Diff[1], c.Diff[2]))
	}
	return cats, pairs, nil
}

// copyStudy writes frame f as PNG, runs every copy operation on it and
// fingerprints the results.
func copyStudy(ctx context.Context, corpus, tmp string, f *studyFrame, h *hash.Hasher, dec *ingest.Decoder, add func(op string, c *studyFrame, t match.Transform)) error {
	data, err := os.ReadFile(filepath.Join(corpus, filepath.FromSlash(f.rel)))
	if err != nil {
		return err
	}
	var img image.Image
	if _, err := ingest.Decode(data, ingest.Options{}, func(fr ingest.Frame) error {
		if fr.Index == 0 {
			img = fr.Image
		}
		return nil
	}); err != nil || img == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil // an image type PNG cannot hold: skip it
	}
	in := filepath.Join(tmp, "in.png")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		return err
	}
	for _, op := range copyOps() {
		out := filepath.Join(tmp, "out"+op.ext)
		args := append(append([]string{in}, op.args...), out)
		if msg, err := exec.CommandContext(ctx, "convert", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("convert %s: %v: %s", strings.Join(args, " "), err, msg)
		}
		cdata, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		var c *studyFrame
		_, err = dec.Decode(cdata, func(fr ingest.Frame) error {
			if fr.Index == 0 {
				c = &studyFrame{fp: fingerprint(h, fr), pix: ingest.FrameDigest(fr)}
			}
			return nil
		})
		if err != nil || c == nil {
			continue
		}
		add(op.name, c, op.transform)
	}
	return nil
}

// fingerprint is the scan's fingerprint of a decoded frame.
func fingerprint(h *hash.Hasher, f ingest.Frame) hash.Fingerprint {
	return h.ComputeReduced(f.Image, f.Scale, f.Width, f.Height)
}

// distinctSet reports whether a corpus file belongs to the images whose
// pairs count as distinct unless corpusinfo says otherwise: the photos and
// the PNG/JPEG medical exports. (The DICOM folders hold many encodings of
// one picture that no list names.)
func distinctSet(rel string) bool {
	return strings.HasPrefix(rel, "natural/") || strings.HasPrefix(rel, "medical_png_jpeg/")
}

func summarise(pairs []VerifyPair) []VerifyCategory {
	byCat := map[string][]VerifyPair{}
	var names []string
	for _, p := range pairs {
		if _, ok := byCat[p.Category]; !ok {
			names = append(names, p.Category)
		}
		byCat[p.Category] = append(byCat[p.Category], p)
	}
	var out []VerifyCategory
	for _, n := range names {
		ps := byCat[n]
		c := VerifyCategory{Name: n, N: len(ps), Copies: strings.HasPrefix(n, "ImageMagick") || strings.HasPrefix(n, "known")}
		var ph, pdq, corr, diff []float64
		for _, p := range ps {
			ph = append(ph, float64(p.V.PHashDistance))
			if p.V.PDQDistance >= 0 {
				pdq = append(pdq, float64(p.V.PDQDistance))
			}
			corr = append(corr, p.V.ThumbCorrelation)
			diff = append(diff, p.V.ThumbDiff)
			if p.V.PHashDistance <= index.DefaultMaxDistance {
				c.Candidates++
				if p.Accepted {
					c.Accepted++
				}
				if (match.Thresholds{}).Accept(p.V) {
					c.Thumbs++
				}
			}
		}
		c.PHash, c.PDQ, c.Corr, c.Diff = spread(ph), spread(pdq), spread(corr), spread(diff)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b VerifyCategory) int {
		if a.Copies != b.Copies {
			if a.Copies {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// spread is min, median, max (NaN-free: -1s when empty).
func spread(xs []float64) [3]float64 {
	if len(xs) == 0 {
		return [3]float64{-1, -1, -1}
	}
	slices.Sort(xs)
	return [3]float64{xs[0], xs[len(xs)/2], xs[len(xs)-1]}
}

// isImageMagick reports whether the convert on PATH is ImageMagick's: a
// stand-in or GraphicsMagick would make other copies than the study's
// figures were measured with.
func isImageMagick() bool {
	out, err := exec.Command("convert", "-version").Output()
	return err == nil && strings.Contains(string(out), "ImageMagick")
}
