package reupload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Scenario names for GenerateScenario. "mr" is Generate's scenario; the
// others vary the slicing, the upload layout and the file encodings so
// that the matching is not tuned to one fixture.
const (
	// ScenarioMR is Generate's scenario: a 1 mm series and its uploads.
	ScenarioMR = "mr"
	// ScenarioThick resamples ch2better to 2 mm slabs (the average of the
	// voxel planes in between, as a thick-slice acquisition integrates
	// them) under another window, with 256x256 JPEG q75, 512 min-max
	// upscales and crops of exactly 4% per side; plus the primate volume
	// in 3 mm slabs, DICOM and window PNG only.
	ScenarioThick = "mr-thick"
	// ScenarioPartial has a DICOM series and two partial PNG uploads that
	// share no slice (the even slices and the odd ones): every true copy
	// pair has neighbours one slice away in the other upload.
	ScenarioPartial = "partial"
	// ScenarioPartialNoDICOM is ScenarioPartial without the DICOM series:
	// the two partial PNG uploads and a full-size JPEG upload of every
	// slice, from the primate volume when it is installed.
	ScenarioPartialNoDICOM = "partial-nodicom"
	// ScenarioAnon has a 16-bit DICOM series, an anonymised copy (new
	// Study, Series and SOP Instance UIDs, new Patient ID, the same pixels
	// in different file bytes), a second anonymised copy with its pixels
	// re-quantised to 12 bits, and window PNG renders.
	ScenarioAnon = "anon"
	// ScenarioMix takes the natural photos and PNG/JPEG medical images of
	// the development corpus (../shared/corpus), re-uploads some of them
	// resized, re-encoded, squashed, flipped and cropped, keeps the others
	// as unrelated distractors, and adds a small DICOM series with its
	// renders.
	ScenarioMix = "mix"
)

// ScenarioNames returns every scenario, in the order `copycat bench
// quality --scenario all` runs them.
func ScenarioNames() []string {
	return []string{ScenarioMR, ScenarioThick, ScenarioPartial, ScenarioPartialNoDICOM, ScenarioAnon, ScenarioMix}
}

// Transform labels of the added scenarios.
const (
	TJPEG256     = "jpeg256"      // window PNG squashed to 256x256, JPEG q75
	TJPEG256Lk   = "jpeg256-leak" // the test copy of a leaked slice, JPEG q60
	TCrop4       = "crop4"        // cropped exactly 4% per side (resized back for slices)
	TJPEGFull    = "jpeg-full"    // window render at full size, JPEG q90
	TDICOMAnon12 = "dicom-anon12" // anonymised DICOM re-quantised to 12 bits
	TPhoto       = "photo"        // a corpus image, byte for byte
	TUnrelated   = "unrelated"    // a corpus image kept as a distractor
	TResize50    = "resize50"     // a corpus image at half its size
	TJPEG75      = "jpeg75"       // a corpus image re-encoded as JPEG q75
	TSquash224   = "squash224"    // a corpus image squashed to 224x224, JPEG q85
)

// ErrNoCorpus is returned for ScenarioMix when the corpus is absent.
var ErrNoCorpus = errors.New("reupload: development corpus not found")

// NeedsCorpus reports whether the scenario is built from the corpus.
func NeedsCorpus(name string) bool { return name == ScenarioMix }

// GenerateScenario writes the named scenario into dir, as Generate does
// for ScenarioMR, and returns its truth. cfg.Main is required;
// ScenarioMix also needs cfg.Corpus.
func GenerateScenario(ctx context.Context, name string, cfg Config, dir string) (*Truth, error) {
	if cfg.Main == nil {
		return nil, errors.New("reupload: no main volume")
	}
	if name == ScenarioMR || name == "" {
		return Generate(ctx, cfg, dir)
	}
	g := &gen{ctx: ctx, dir: dir, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7265_7570_6c6f_6164)), truth: &Truth{Seed: cfg.Seed, Window: map[string][2]float64{}}}
	var err error
	switch name {
	case ScenarioThick:
		err = g.thick(cfg)
	case ScenarioPartial:
		err = g.partial(cfg)
	case ScenarioPartialNoDICOM:
		err = g.partialNoDICOM(cfg)
	case ScenarioAnon:
		err = g.anon(cfg)
	case ScenarioMix:
		err = g.mix(cfg)
	default:
		return nil, fmt.Errorf("reupload: unknown scenario %q (want one of %v)", name, ScenarioNames())
	}
	if err != nil {
		return nil, err
	}
	return g.truth, g.truth.save(dir)
}

// series cuts a series and records its window in the truth.
func (g *gen) series(v *Volume, name string, o seriesOptions) (*series, error) {
	s, err := makeSeriesOpts(v, name, o)
	if err != nil {
		return nil, err
	}
	g.truth.Window[name] = [2]float64{s.wc, s.ww}
	return s, nil
}

// thick builds ScenarioThick.
func (g *gen) thick(cfg Config) error {
	n := cfg.Slices
	if n <= 0 {
		n = 72
	}
	s, err := g.series(cfg.Main, VolumeMain+"-2mm", seriesOptions{n: n, sliceMM: 2, slab: true, winLo: 10, winHi: 97})
	if err != nil {
		return err
	}
	const (
		dcm, png, kag, mm, aug = "thick-dicom", "thick-png", "thick-kaggle256", "thick-minmax512", "thick-augmented"
	)
	if err := g.writeSeries(dcm, s, "REUPLOAD-0101", "T1 axial 2 mm (ch2better)"); err != nil {
		return err
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: dcm, Copy: png, Shared: len(s.slices)})
	renders, names, err := g.writeWindowPNGs(png, dcm, s)
	if err != nil {
		return err
	}
	if err := g.kaggleOpts(kaggleOptions{ds: kag, from: png, size: 256, q: 75, qLeak: 60, label: TJPEG256, labelLeak: TJPEG256Lk}, s.volume, renders, names); err != nil {
		return err
	}
	if err := g.minMax(mm, dcm, s, 40, 512, TMinMax512); err != nil {
		return err
	}
	if err := g.augmentOpts(aug, png, s.volume, renders, 0.04, 0, TCrop4); err != nil {
		return err
	}
	if cfg.Second == nil {
		return nil
	}
	p, err := g.series(cfg.Second, VolumeSecond+"-3mm", seriesOptions{n: 60, sliceMM: 3, slab: true, winLo: 2, winHi: 90})
	if err != nil {
		return err
	}
	if err := g.writeSeries("primate3mm-dicom", p, "REUPLOAD-0102", "T1 axial 3 mm (inia19)"); err != nil {
		return err
	}
	if _, _, err := g.writeWindowPNGs("primate3mm-png", "primate3mm-dicom", p); err != nil {
		return err
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: "primate3mm-dicom", Copy: "primate3mm-png", Shared: len(p.slices)})
	return nil
}

// writeWindowSubset renders the slices of s that keep admits through the
// stored window to PNG under shuffled names, into ds.
func (g *gen) writeWindowSubset(ds, from string, s *series, keep func(i int) bool) (int, error) {
	g.dataset(ds)
	var idx []int
	for i := range s.slices {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	perm := g.rng.Perm(len(idx))
	for k, i := range idx {
		data, err := encodePNG(windowRender(s.slices[i], s.w, s.h, s.wc, s.ww))
		if err != nil {
			return 0, err
		}
		if err := g.image(ds, fmt.Sprintf("slice_%04d.png", perm[k]+1), s.volume, i, TWindowPNG, data); err != nil {
			return 0, err
		}
	}
	readme := fmt.Sprintf("# %s\n\nSome axial T1 MRI slices of %s, rendered to 8-bit PNG with the stored window.\n", ds, from)
	return len(idx), g.write(ds, "README.md", []byte(readme))
}

func even(i int) bool { return i%2 == 0 }
func odd(i int) bool  { return i%2 == 1 }

// partial builds ScenarioPartial.
func (g *gen) partial(cfg Config) error {
	s, err := g.series(cfg.Main, VolumeMain, seriesOptions{n: cmp0(cfg.Slices, 108), sliceMM: 1, winLo: 3, winHi: 90})
	if err != nil {
		return err
	}
	const dcm = "part-dicom"
	if err := g.writeSeries(dcm, s, "REUPLOAD-0201", "T1 axial (ch2better)"); err != nil {
		return err
	}
	for _, p := range []struct {
		ds   string
		keep func(int) bool
	}{{"part-even", even}, {"part-odd", odd}} {
		n, err := g.writeWindowSubset(p.ds, dcm, s, p.keep)
		if err != nil {
			return err
		}
		g.truth.Edges = append(g.truth.Edges, Edge{Original: dcm, Copy: p.ds, Shared: n})
	}
	return nil
}

// partialNoDICOM builds ScenarioPartialNoDICOM.
func (g *gen) partialNoDICOM(cfg Config) error {
	v, name := cfg.Main, VolumeMain
	if cfg.Second != nil {
		v, name = cfg.Second, VolumeSecond
	}
	s, err := g.series(v, name, seriesOptions{n: cmp0(cfg.Slices, 108), sliceMM: 1})
	if err != nil {
		return err
	}
	const full = "nodcm-jpeg"
	var shared []Edge
	for _, p := range []struct {
		ds   string
		keep func(int) bool
	}{{"nodcm-even", even}, {"nodcm-odd", odd}} {
		n, err := g.writeWindowSubset(p.ds, "a DICOM series not uploaded", s, p.keep)
		if err != nil {
			return err
		}
		// The PNGs hold the render losslessly: they are the originals of
		// the JPEG copy's slices.
		shared = append(shared, Edge{Original: p.ds, Copy: full, Shared: n})
	}
	g.dataset(full)
	perm := g.rng.Perm(len(s.slices))
	for i, px := range s.slices {
		data, err := encodeJPEG(windowRender(px, s.w, s.h, s.wc, s.ww), 90)
		if err != nil {
			return err
		}
		if err := g.image(full, fmt.Sprintf("%05d.jpg", perm[i]+1), s.volume, i, TJPEGFull, data); err != nil {
			return err
		}
	}
	g.truth.Edges = append(g.truth.Edges, shared...)
	return nil
}

// anon builds ScenarioAnon.
func (g *gen) anon(cfg Config) error {
	s, err := g.series(cfg.Main, VolumeMain, seriesOptions{n: cmp0(cfg.Slices, 60), sliceMM: 1, maxValue: 65535})
	if err != nil {
		return err
	}
	const dcm, deid, deid12, png = "anon-dicom", "anon-deid", "anon-deid12", "anon-png"
	if err := g.writeSeries(dcm, s, "REUPLOAD-0301", "T1 axial (ch2better)"); err != nil {
		return err
	}
	// The same pixels under new UIDs and a new Patient ID.
	if err := g.writeSeriesOpts(deid, s, dicomOptions{patientID: "ANON-7F3A91", description: "T1 axial (ch2better)",
		transform: TDICOMAnon, deidentified: true, fileNames: "anon_%05d.dcm"}); err != nil {
		return err
	}
	// Re-quantised to 12 bits, the window scaled alike.
	q := *s
	q.bits = 12
	q.slices = make([][]uint16, len(s.slices))
	const f = 4095.0 / 65535.0
	for i, px := range s.slices {
		q.slices[i] = make([]uint16, len(px))
		for k, v := range px {
			q.slices[i][k] = uint16(math.Round(float64(v) * f))
		}
	}
	q.wc, q.ww = math.Round(s.wc*f), math.Round(s.ww*f)
	if err := g.writeSeriesOpts(deid12, &q, dicomOptions{patientID: "ANON-7F3A92", description: "T1 axial (ch2better) 12 bit",
		transform: TDICOMAnon12, deidentified: true, fileNames: "anon_%05d.dcm"}); err != nil {
		return err
	}
	if _, _, err := g.writeWindowPNGs(png, dcm, s); err != nil {
		return err
	}
	n := len(s.slices)
	g.truth.Edges = append(g.truth.Edges,
		Edge{Original: dcm, Copy: deid, Shared: n, Either: true},
		Edge{Original: dcm, Copy: deid12, Shared: n},
		Edge{Original: dcm, Copy: png, Shared: n})
	return nil
}

// cmp0 returns x, or def when x is 0 or less.
func cmp0(x, def int) int {
	if x <= 0 {
		return def
	}
	return x
}

// pickSorted returns k distinct indices of 0..n-1, sorted.
func (g *gen) pickSorted(n, k int) []int {
	p := g.pick(n, k)
	slices.Sort(p)
	return p
}
