package reupload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/disintegration/imaging"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Transform labels of the truth manifest: what was done to a slice to make
// the image file.
const (
	TDICOM      = "dicom"        // the original DICOM instance
	TWindowPNG  = "window-png"   // 8-bit PNG through the stored window
	TJPEG224    = "jpeg224"      // window PNG squashed to 224x224, JPEG q85
	TJPEG224Lk  = "jpeg224-leak" // the test copy of a leaked slice, JPEG q70
	TMinMax512  = "minmax512"    // min-max render upscaled to 512x512
	TFlipLR     = "flip-lr"      // window PNG mirrored left-right
	TFlipTB     = "flip-tb"      // window PNG flipped top-bottom
	TRot90CW    = "rot90-cw"     // window PNG rotated 90 degrees clockwise
	TCrop       = "crop"         // window PNG cropped 3-5% per side, resized back
	TDICOMAnon  = "dicom-anon"   // re-written DICOM with new UIDs, same pixels (ScenarioAnon)
	licenseName = "LICENSE"
)

// Dataset names, one folder each under the output dir.
const (
	DSDICOM     = "mr-dicom"
	DSPNG       = "mr-png"
	DSKaggle    = "mr-kaggle"
	DSMinMax    = "mr-minmax512"
	DSAugmented = "mr-augmented"
	DSPrimDICOM = "primate-dicom"
	DSPrimPNG   = "primate-png"
)

// Config says what Generate builds. Main is required.
type Config struct {
	Main   *Volume // the human T1 volume (ch2better or its cut)
	Second *Volume // the primate volume; nil: no primate datasets
	// Slices is the length of the main series (consecutive slices with
	// content); 0 means 108. A shorter volume gives all it has.
	Slices int
	// SecondSlices is the length of the primate series; 0 means 60.
	SecondSlices int
	// SliceMM is the distance between the series' slices; 0 means 1 mm
	// (every other voxel plane of the 0.5 mm templates).
	SliceMM float64
	Seed    uint64
	// Corpus is the development corpus folder (../shared/corpus, with
	// MANIFEST.tsv) that ScenarioMix is built from.
	Corpus string
}

// Image is one image file of the scenario and what it shows.
type Image struct {
	Dataset   string `json:"dataset"`
	Path      string `json:"path"` // inside the dataset, slash-separated
	Volume    string `json:"volume"`
	Slice     int    `json:"slice"` // index in the series, 0-based: neighbours differ by 1
	Transform string `json:"transform"`
}

// Edge is an expected lineage edge: Copy was made from Original and they
// share Shared distinct slices.
type Edge struct {
	Original string `json:"original"`
	Copy     string `json:"copy"`
	Shared   int    `json:"shared"`
	// Either is set when the files do not tell the direction (the same
	// pixels in both): either direction is right.
	Either bool `json:"either_direction,omitempty"`
}

// Leak is an expected leak: Pairs image pairs of Dataset that show the
// same slice across its splits.
type Leak struct {
	Dataset string    `json:"dataset"`
	Splits  [2]string `json:"splits"` // name order
	Pairs   int       `json:"pairs"`
	// Examples are the pairs, as paths inside the dataset.
	Examples [][2]string `json:"examples"`
}

// Truth is the manifest Generate writes to truth.json.
type Truth struct {
	Seed     uint64   `json:"seed"`
	Datasets []string `json:"datasets"` // in creation order
	Images   []Image  `json:"images"`
	Edges    []Edge   `json:"edges"`
	Leaks    []Leak   `json:"leaks"`
	// Window is the stored window of each series, by volume.
	Window map[string][2]float64 `json:"window"`
	// Skipped names the source files left out, with the reason
	// (ScenarioMix: corpus images Go does not decode).
	Skipped []string `json:"skipped,omitempty"`
}

// Copies reports whether two images of the truth are copies: the same
// slice of the same volume.
func Copies(a, b Image) bool { return a.Volume == b.Volume && a.Slice == b.Slice }

// IsRaster reports whether the image is a PNG or JPEG file.
func (im Image) IsRaster() bool { return !strings.HasPrefix(im.Transform, TDICOM) }

// series is a stack of slices of one volume, as 12-bit stored values.
type series struct {
	volume string
	w, h   int
	slices [][]uint16 // row-major, w*h each
	z      []float64  // slice location, mm
	dx, dy float64    // pixel spacing, mm (column, row)
	thick  float64
	wc, ww float64 // stored window
	bits   int     // BitsStored: 12, or 16 for seriesOptions.maxValue 65535
}

// ContentSlices returns the voxel planes along z, sliceMM apart, from the
// first to the last plane with content (at least 2% of its voxels above a
// tenth of the volume's maximum).
func ContentSlices(v *Volume, sliceMM float64) []int {
	if sliceMM <= 0 {
		sliceMM = 1
	}
	step := max(1, int(math.Round(sliceMM/v.Spacing[2])))
	var vmax float32
	for _, x := range v.Data {
		vmax = max(vmax, x)
	}
	thr := vmax / 10
	plane := v.NX * v.NY
	var zs []int
	first, last := -1, -1
	for z := 0; z < v.NZ; z += step {
		n := 0
		for _, x := range v.Data[z*plane : (z+1)*plane] {
			if x > thr {
				n++
			}
		}
		zs = append(zs, z)
		if n*50 >= plane {
			if first < 0 {
				first = len(zs) - 1
			}
			last = len(zs) - 1
		}
	}
	if first < 0 {
		return nil
	}
	return zs[first : last+1]
}

// centred returns n consecutive elements from the middle of s (all of s
// when it is shorter).
func centred(s []int, n int) []int {
	if n >= len(s) {
		return s
	}
	o := (len(s) - n) / 2
	return s[o : o+n]
}

// makeSeries cuts n slices of v into 12-bit values with a window covering
// the 5th to 85th percentile of the content voxels.
func makeSeries(v *Volume, name string, n int, sliceMM float64) (*series, error) {
	return makeSeriesOpts(v, name, seriesOptions{n: n, sliceMM: sliceMM})
}

// seriesOptions says how makeSeriesOpts cuts a volume into a series.
type seriesOptions struct {
	n       int     // slices, centred in the volume's content
	sliceMM float64 // distance between slices
	// slab averages the voxel planes from one slice up to the next, as a
	// thick-slice acquisition integrates them; false takes one plane.
	slab bool
	// winLo, winHi are the content percentiles the stored window spans;
	// 0, 0 means 5 and 85.
	winLo, winHi int
	// maxValue is the largest stored value: 0 means 4095 (12 bits); 65535
	// writes 16-bit pixels.
	maxValue float64
}

// makeSeriesOpts cuts a series out of v as o says.
func makeSeriesOpts(v *Volume, name string, o seriesOptions) (*series, error) {
	if o.winLo == 0 && o.winHi == 0 {
		o.winLo, o.winHi = 5, 85
	}
	if o.maxValue <= 0 {
		o.maxValue = 4095
	}
	zs := centred(ContentSlices(v, o.sliceMM), o.n)
	if len(zs) < 4 {
		return nil, fmt.Errorf("reupload: volume %s has %d slices with content, want at least 4", name, len(zs))
	}
	var vmax float32
	for _, x := range v.Data {
		vmax = max(vmax, x)
	}
	scale := o.maxValue / float64(vmax)
	planes := 1
	if o.slab {
		planes = max(1, int(math.Round(o.sliceMM/v.Spacing[2])))
	}
	bits := 12
	if o.maxValue > 4095 {
		bits = 16
	}
	s := &series{volume: name, w: v.NX, h: v.NY, dx: v.Spacing[0], dy: v.Spacing[1], thick: float64(max(o.sliceMM, v.Spacing[2])), bits: bits}
	var content []uint16
	for _, z := range zs {
		px := make([]uint16, v.NX*v.NY)
		np := min(planes, v.NZ-z)
		for r := range v.NY {
			y := v.NY - 1 - r // anterior at the top, as viewers show axial slices
			for x := range v.NX {
				var sum float64
				for k := range np {
					sum += float64(v.At(x, y, z+k))
				}
				val := uint16(math.Round(min(max(sum/float64(np)*scale, 0), o.maxValue)))
				px[r*v.NX+x] = val
				if val > 0 {
					content = append(content, val)
				}
			}
		}
		s.slices = append(s.slices, px)
		// The slice location is the slab's centre.
		s.z = append(s.z, (float64(z)+float64(np-1)/2)*v.Spacing[2])
	}
	slices.Sort(content)
	lo := float64(content[len(content)*o.winLo/100])
	hi := float64(content[min(len(content)*o.winHi/100, len(content)-1)])
	s.wc, s.ww = math.Round((lo+hi)/2), math.Round(max(hi-lo, 2))
	return s, nil
}

// windowRender renders stored values to 8 bits with the DICOM linear VOI
// function (PS3.3 C.11.2.1.2.1), as pydicom's apply_windowing does,
// truncated to uint8 as numpy's astype does.
func windowRender(px []uint16, w, h int, wc, ww float64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	lo, hi := wc-0.5-(ww-1)/2, wc-0.5+(ww-1)/2
	for i, v := range px {
		x := float64(v)
		var y float64
		switch {
		case x <= lo:
			y = 0
		case x > hi:
			y = 255
		default:
			y = ((x-(wc-0.5))/(ww-1) + 0.5) * 255
		}
		img.Pix[i] = uint8(min(max(y, 0), 255))
	}
	return img
}

// minMaxRender scales the slice from its own minimum to its maximum.
func minMaxRender(px []uint16, w, h int) *image.Gray {
	lo, hi := slices.Min(px), slices.Max(px)
	img := image.NewGray(image.Rect(0, 0, w, h))
	span := max(float64(hi)-float64(lo), 1)
	for i, v := range px {
		img.Pix[i] = uint8((float64(v) - float64(lo)) / span * 255)
	}
	return img
}

// gray converts the imaging library's NRGBA results back to 8-bit grey,
// as a PIL script working in mode "L" keeps them.
func gray(src image.Image) *image.Gray {
	b := src.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	n, ok := src.(*image.NRGBA)
	for y := range b.Dy() {
		for x := range b.Dx() {
			if ok {
				g.Pix[y*g.Stride+x] = n.Pix[y*n.Stride+4*x]
			} else {
				r, _, _, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
				g.Pix[y*g.Stride+x] = uint8(r >> 8)
			}
		}
	}
	return g
}

// gen is one run of Generate.
type gen struct {
	ctx   context.Context
	dir   string
	rng   *rand.Rand
	truth *Truth
}

func (g *gen) write(ds, rel string, data []byte) error {
	if err := g.ctx.Err(); err != nil {
		return err
	}
	p := filepath.Join(g.dir, ds, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func (g *gen) image(ds, rel, volume string, slice int, transform string, data []byte) error {
	g.truth.Images = append(g.truth.Images, Image{Dataset: ds, Path: rel, Volume: volume, Slice: slice, Transform: transform})
	return g.write(ds, rel, data)
}

func (g *gen) dataset(name string) { g.truth.Datasets = append(g.truth.Datasets, name) }

func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

func encodeJPEG(img image.Image, q int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
	return b.Bytes(), err
}

// uid makes a "2.25." UID from 128 random bits.
func uid(rng *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	return "2.25." + new(big.Int).SetBytes(b[:]).String()
}

// mrImageStorage is the SOP Class of an MR image.
const mrImageStorage = "1.2.840.10008.5.1.4.1.1.4"

// writeSeries writes s as one DICOM MR series, IM_0001.dcm..., into ds.
func (g *gen) writeSeries(ds string, s *series, patientID, description string) error {
	return g.writeSeriesOpts(ds, s, dicomOptions{patientID: patientID, description: description, transform: TDICOM})
}

// dicomOptions says how writeSeriesOpts writes a series.
type dicomOptions struct {
	patientID, description string
	transform              string // the truth label of the instances
	// deidentified adds Patient Identity Removed and a De-identification
	// Method, as an anonymiser does.
	deidentified bool
	// fileNames is the instance file name pattern; "" means IM_%04d.dcm.
	fileNames string
}

// writeSeriesOpts writes s as one DICOM MR series into ds, with new
// Study, Series and SOP Instance UIDs.
func (g *gen) writeSeriesOpts(ds string, s *series, o dicomOptions) error {
	patientID, description := o.patientID, o.description
	if o.fileNames == "" {
		o.fileNames = "IM_%04d.dcm"
	}
	bits := s.bits
	if bits == 0 {
		bits = 12
	}
	g.dataset(ds)
	study, ser := uid(g.rng), uid(g.rng)
	ds64 := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	for i, px := range s.slices {
		instance := uid(g.rng)
		var (
			d    dicom.Dataset
			errs []error
		)
		add := func(t tag.Tag, v any) {
			e, err := dicom.NewElement(t, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("element %v: %w", t, err))
				return
			}
			d.Elements = append(d.Elements, e)
		}
		pix := make([]byte, 2*len(px))
		for k, v := range px {
			binary.LittleEndian.PutUint16(pix[2*k:], v)
		}
		add(tag.FileMetaInformationVersion, []byte{0, 1})
		add(tag.MediaStorageSOPClassUID, []string{mrImageStorage})
		add(tag.MediaStorageSOPInstanceUID, []string{instance})
		add(tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}) // explicit VR little endian
		add(tag.ImageType, []string{"ORIGINAL", "PRIMARY", "M", "ND"})
		add(tag.SOPClassUID, []string{mrImageStorage})
		add(tag.SOPInstanceUID, []string{instance})
		add(tag.Modality, []string{"MR"})
		add(tag.SeriesDescription, []string{description})
		add(tag.PatientName, []string{"Anonymous^" + patientID})
		add(tag.PatientID, []string{patientID})
		if o.deidentified {
			add(tag.PatientIdentityRemoved, []string{"YES"})
			add(tag.DeidentificationMethod, []string{"copycat reupload anonymiser: new UIDs and Patient ID"})
		}
		add(tag.SliceThickness, []string{ds64(s.thick)})
		add(tag.StudyInstanceUID, []string{study})
		add(tag.SeriesInstanceUID, []string{ser})
		add(tag.SeriesNumber, []string{"1"})
		add(tag.InstanceNumber, []string{strconv.Itoa(i + 1)})
		add(tag.ImagePositionPatient, []string{"0", "0", ds64(s.z[i])})
		add(tag.ImageOrientationPatient, []string{"1", "0", "0", "0", "1", "0"})
		add(tag.SliceLocation, []string{ds64(s.z[i])})
		add(tag.SamplesPerPixel, []int{1})
		add(tag.PhotometricInterpretation, []string{"MONOCHROME2"})
		add(tag.Rows, []int{s.h})
		add(tag.Columns, []int{s.w})
		add(tag.PixelSpacing, []string{ds64(s.dy), ds64(s.dx)})
		add(tag.BitsAllocated, []int{16})
		add(tag.BitsStored, []int{bits})
		add(tag.HighBit, []int{bits - 1})
		add(tag.PixelRepresentation, []int{0})
		add(tag.WindowCenter, []string{ds64(s.wc)})
		add(tag.WindowWidth, []string{ds64(s.ww)})
		add(tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: pix})
		if err := errors.Join(errs...); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := dicom.Write(&b, d); err != nil {
			return fmt.Errorf("write %s slice %d: %w", ds, i, err)
		}
		if err := g.image(ds, fmt.Sprintf(o.fileNames, i+1), s.volume, i, o.transform, b.Bytes()); err != nil {
			return err
		}
	}
	return g.write(ds, licenseName, []byte(bsd3))
}

// writeWindowPNGs renders every slice of s through its stored window to
// PNG under shuffled names, and returns the renders by slice and their
// names.
func (g *gen) writeWindowPNGs(ds, from string, s *series) ([]*image.Gray, []string, error) {
	g.dataset(ds)
	perm := g.rng.Perm(len(s.slices))
	imgs := make([]*image.Gray, len(s.slices))
	names := make([]string, len(s.slices))
	for i, px := range s.slices {
		imgs[i] = windowRender(px, s.w, s.h, s.wc, s.ww)
		names[i] = fmt.Sprintf("img_%04d.png", perm[i]+1)
		data, err := encodePNG(imgs[i])
		if err != nil {
			return nil, nil, err
		}
		if err := g.image(ds, names[i], s.volume, i, TWindowPNG, data); err != nil {
			return nil, nil, err
		}
	}
	readme := fmt.Sprintf("# %s\n\nAxial T1 MRI slices, converted from the DICOM series %s to 8-bit PNG with the stored window (pydicom apply_windowing).\n", ds, from)
	return imgs, names, g.write(ds, "README.md", []byte(readme))
}

// pick returns k distinct indices of 0..n-1 in a seeded random order.
func (g *gen) pick(n, k int) []int {
	return g.rng.Perm(n)[:min(k, n)]
}

// Generate writes the scenario into dir, one folder per dataset, with
// truth.json and truth.tsv beside them, and returns the truth. The output
// depends only on cfg.
func Generate(ctx context.Context, cfg Config, dir string) (*Truth, error) {
	if cfg.Main == nil {
		return nil, errors.New("reupload: no main volume")
	}
	if cfg.Slices <= 0 {
		cfg.Slices = 108
	}
	if cfg.SecondSlices <= 0 {
		cfg.SecondSlices = 60
	}
	if cfg.SliceMM <= 0 {
		cfg.SliceMM = 1
	}
	g := &gen{ctx: ctx, dir: dir, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7265_7570_6c6f_6164)), truth: &Truth{Seed: cfg.Seed, Window: map[string][2]float64{}}}
	mr, err := makeSeries(cfg.Main, VolumeMain, cfg.Slices, cfg.SliceMM)
	if err != nil {
		return nil, err
	}
	n := len(mr.slices)
	g.truth.Window[VolumeMain] = [2]float64{mr.wc, mr.ww}

	// a. The original series.
	if err := g.writeSeries(DSDICOM, mr, "REUPLOAD-0001", "T1 axial (ch2better)"); err != nil {
		return nil, err
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: DSDICOM, Copy: DSPNG, Shared: n})
	// b. Window renders, shuffled names.
	renders, names, err := g.writeWindowPNGs(DSPNG, DSDICOM, mr)
	if err != nil {
		return nil, err
	}
	// c. 224x224 JPEG, train/test split, leaked slices.
	if err := g.kaggle(mr.volume, renders, names); err != nil {
		return nil, err
	}
	// d. Min-max renders upscaled to 512.
	if err := g.minMax(DSMinMax, DSDICOM, mr, 40, 512, TMinMax512); err != nil {
		return nil, err
	}
	// e. Augmentations.
	if err := g.augment(mr.volume, renders); err != nil {
		return nil, err
	}
	// f. The primate series and its renders.
	if cfg.Second != nil {
		pr, err := makeSeries(cfg.Second, VolumeSecond, cfg.SecondSlices, cfg.SliceMM)
		if err != nil {
			return nil, err
		}
		g.truth.Window[VolumeSecond] = [2]float64{pr.wc, pr.ww}
		if err := g.writeSeries(DSPrimDICOM, pr, "REUPLOAD-0002", "T1 axial (inia19)"); err != nil {
			return nil, err
		}
		if _, _, err := g.writeWindowPNGs(DSPrimPNG, DSPrimDICOM, pr); err != nil {
			return nil, err
		}
		g.truth.Edges = append(g.truth.Edges, Edge{Original: DSPrimDICOM, Copy: DSPrimPNG, Shared: len(pr.slices)})
	}
	return g.truth, g.truth.save(dir)
}

// kaggle writes mr-kaggle: every window render squashed to 224x224 JPEG
// q85, split 80/20 by a seeded shuffle, with 5 train slices also in test,
// re-encoded at q70.
func (g *gen) kaggle(volume string, renders []*image.Gray, names []string) error {
	return g.kaggleOpts(kaggleOptions{ds: DSKaggle, from: DSPNG, size: 224, q: 85, qLeak: 70, label: TJPEG224, labelLeak: TJPEG224Lk}, volume, renders, names)
}

// kaggleOptions says how kaggleOpts squashes and splits the renders.
type kaggleOptions struct {
	ds, from         string // the dataset written, and the one it derives from
	size, q, qLeak   int    // square side, JPEG quality, quality of the leaked copies
	label, labelLeak string
}

// kaggleOpts writes a train/test split of every render squashed to
// o.size squared: 80/20 by a seeded shuffle, with 5 train slices also in
// test, re-encoded at o.qLeak.
func (g *gen) kaggleOpts(o kaggleOptions, volume string, renders []*image.Gray, names []string) error {
	g.dataset(o.ds)
	n := len(renders)
	order := g.rng.Perm(n)
	nTest := int(math.Round(float64(n) * 0.2))
	test, train := order[:nTest], order[nTest:]
	jpg := func(i int) string { return strings.TrimSuffix(names[i], ".png") + ".jpg" }
	small := make([]*image.Gray, n)
	for i, r := range renders {
		small[i] = gray(imaging.Resize(r, o.size, o.size, imaging.Lanczos))
	}
	put := func(split string, i, q int, t string) error {
		data, err := encodeJPEG(small[i], q)
		if err != nil {
			return err
		}
		return g.image(o.ds, split+"/"+jpg(i), volume, i, t, data)
	}
	for _, i := range train {
		if err := put("train", i, o.q, o.label); err != nil {
			return err
		}
	}
	for _, i := range test {
		if err := put("test", i, o.q, o.label); err != nil {
			return err
		}
	}
	leak := Leak{Dataset: o.ds, Splits: [2]string{"test", "train"}}
	for _, k := range g.pick(len(train), 5) {
		i := train[k]
		if err := put("test", i, o.qLeak, o.labelLeak); err != nil {
			return err
		}
		leak.Pairs++
		leak.Examples = append(leak.Examples, [2]string{"test/" + jpg(i), "train/" + jpg(i)})
	}
	g.truth.Leaks = append(g.truth.Leaks, leak)
	g.truth.Edges = append(g.truth.Edges, Edge{Original: o.from, Copy: o.ds, Shared: n})
	return nil
}

// minMax writes k min-max renders of distinct slices of s, resized to
// size squared, as PNG into ds (derived from the series in from).
func (g *gen) minMax(ds, from string, s *series, k, size int, label string) error {
	g.dataset(ds)
	mm := g.pick(len(s.slices), k)
	for _, i := range mm {
		img := gray(imaging.Resize(minMaxRender(s.slices[i], s.w, s.h), size, size, imaging.CatmullRom))
		data, err := encodePNG(img)
		if err != nil {
			return err
		}
		if err := g.image(ds, fmt.Sprintf("IM_%04d.png", i+1), s.volume, i, label, data); err != nil {
			return err
		}
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: from, Copy: ds, Shared: len(mm)})
	return nil
}

// augment writes mr-augmented: 36 window renders of distinct slices, a
// quarter each flipped left-right, flipped top-bottom, rotated 90 degrees
// clockwise and cropped by 3-5% per side then resized back; JPEG q90 and
// PNG alternately.
func (g *gen) augment(volume string, renders []*image.Gray) error {
	return g.augmentOpts(DSAugmented, DSPNG, volume, renders, 0.03, 0.02, TCrop)
}

// augmentOpts writes 36 augmentations of distinct renders into ds, as
// augment does, with crops of cropLo to cropLo+cropSpan per side (exactly cropLo,
// drawing nothing from the seed, when cropSpan is 0) labelled cropLabel.
func (g *gen) augmentOpts(ds, from, volume string, renders []*image.Gray, cropLo, cropSpan float64, cropLabel string) error {
	g.dataset(ds)
	picked := g.pick(len(renders), 36)
	picked = picked[:len(picked)/4*4]
	q := len(picked) / 4
	for k, i := range picked {
		src := renders[i]
		var (
			out image.Image
			t   string
		)
		switch k / q {
		case 0:
			out, t = imaging.FlipH(src), TFlipLR
		case 1:
			out, t = imaging.FlipV(src), TFlipTB
		case 2:
			// imaging.Rotate270 turns 270 degrees counter-clockwise: 90 clockwise.
			out, t = imaging.Rotate270(src), TRot90CW
		default:
			b := src.Bounds()
			frac := func() float64 {
				if cropSpan == 0 {
					return cropLo
				}
				return cropLo + cropSpan*g.rng.Float64()
			}
			l, r := int(math.Round(frac()*float64(b.Dx()))), int(math.Round(frac()*float64(b.Dx())))
			tp, bt := int(math.Round(frac()*float64(b.Dy()))), int(math.Round(frac()*float64(b.Dy())))
			c := imaging.Crop(src, image.Rect(l, tp, b.Dx()-r, b.Dy()-bt))
			out, t = imaging.Resize(c, b.Dx(), b.Dy(), imaging.Lanczos), cropLabel
		}
		var (
			data []byte
			err  error
			name string
		)
		if k%2 == 0 {
			name = fmt.Sprintf("aug_%04d.jpg", k+1)
			data, err = encodeJPEG(gray(out), 90)
		} else {
			name = fmt.Sprintf("aug_%04d.png", k+1)
			data, err = encodePNG(gray(out))
		}
		if err != nil {
			return err
		}
		if err := g.image(ds, name, volume, i, t, data); err != nil {
			return err
		}
	}
	g.truth.Edges = append(g.truth.Edges, Edge{Original: from, Copy: ds, Shared: len(picked)})
	return nil
}

// save writes truth.json and truth.tsv (one line per image) into dir.
func (t *Truth) save(dir string) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "truth.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "truth.tsv"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "dataset\tpath\tvolume\tslice\ttransform")
	for _, im := range t.Images {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", im.Dataset, im.Path, im.Volume, im.Slice, im.Transform)
	}
	return errors.Join(w.Flush(), f.Close())
}

// ReadTruth reads the truth.json that Generate wrote into dir.
func ReadTruth(dir string) (*Truth, error) {
	data, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return nil, err
	}
	var t Truth
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, "truth.json"), err)
	}
	return &t, nil
}
