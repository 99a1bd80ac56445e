// Command gendata makes big synthetic image datasets for copycat's memory
// and fault scripts (bench/scripts/memory.sh, bench/scripts/sigkill.sh):
// tens of thousands of small distinct images, or a few hundred large ones.
// It is a tool for those scripts, not part of the copycat binary.
//
//	go run ./internal/gendata -kind small -n 50000 DIR
//	go run ./internal/gendata -kind large -n 200 DIR
//
// Small images are PNG and JPEG (alternately), 64 to 512 pixels a side, grey
// or colour, a gradient under a few random shapes: every image differs, so
// a scan indexes them all rather than finding one duplicate many times. They
// go to DIR/dNNN/sNNNNNNN.{png,jpg}, 1000 per folder.
//
// Large images are, alternately, 6000x4000 JPEG (quality 90, gradients,
// discs and noise, like a photo to the encoder) and 100-frame DICOM
// (512x512, 12 bits in 16, MONOCHROME2, explicit VR little endian, written
// with github.com/suyashkumar/dicom): DIR/lNNNN.jpg and DIR/lNNNN.dcm.
//
// File i's content depends only on -seed and i, so a run is reproducible
// whatever -j, and `-start I -n 1 -seed S` rewrites file I (same path, same
// format) with new content: the fault script changes files that way. Files
// are written to a temporary name and renamed, so an interrupted run never
// leaves a half-written image under its final name.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"golang.org/x/sync/errgroup"
)

// config is what the flags say.
type config struct {
	kind    string // "small" or "large"
	n       int    // files to write
	start   int    // index of the first file
	seed    uint64
	jobs    int
	jpegW   int // large JPEG size
	jpegH   int
	dcmSize int // large DICOM rows and columns
	frames  int // large DICOM frames
	quiet   bool
}

func main() {
	var c config
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: go run ./internal/gendata -kind small|large -n N [flags] DIR")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.kind, "kind", "small", "small (PNG/JPEG, 64-512 px) or large (6000x4000 JPEG and 100-frame DICOM)")
	fs.IntVar(&c.n, "n", 1000, "number of files")
	fs.IntVar(&c.start, "start", 0, "index of the first file (rewrites files start..start+n-1)")
	fs.Uint64Var(&c.seed, "seed", 1, "content seed: file i's content depends only on seed and i")
	fs.IntVar(&c.jobs, "j", runtime.NumCPU(), "files written in parallel")
	size := fs.String("jpeg-size", "6000x4000", "large JPEG size WxH")
	fs.IntVar(&c.dcmSize, "dicom-size", 512, "large DICOM rows and columns")
	fs.IntVar(&c.frames, "frames", 100, "large DICOM frames")
	fs.BoolVar(&c.quiet, "q", false, "no progress on stderr")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	var err error
	if c.jpegW, c.jpegH, err = parseSize(*size); err != nil || fs.NArg() != 1 || c.n < 0 || c.start < 0 ||
		(c.kind != "small" && c.kind != "large") || c.jobs < 1 || c.dcmSize < 1 || c.frames < 1 {
		fs.Usage()
		os.Exit(2)
	}
	if err := generate(context.Background(), c, fs.Arg(0), os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (w, h int, err error) {
	a, b, ok := strings.Cut(s, "x")
	if w, err = strconv.Atoi(a); err == nil && ok {
		h, err = strconv.Atoi(b)
	}
	if err != nil || !ok || w < 1 || h < 1 {
		return 0, 0, fmt.Errorf("bad size %q, want WxH", s)
	}
	return w, h, nil
}

// generate writes files c.start..c.start+c.n-1 into dir with c.jobs
// goroutines, printing progress to log every few seconds.
func generate(ctx context.Context, c config, dir string, log io.Writer) error {
	if c.quiet {
		log = io.Discard
	}
	g, ctx := errgroup.WithContext(ctx)
	next := make(chan int)
	g.Go(func() error {
		defer close(next)
		for i := c.start; i < c.start+c.n; i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	var done atomic.Int64
	for range c.jobs {
		g.Go(func() error {
			for i := range next {
				if err := writeFile(c, dir, i); err != nil {
					return err
				}
				done.Add(1)
			}
			return nil
		})
	}
	t0 := time.Now()
	stop := make(chan struct{})
	ticker := time.NewTicker(5 * time.Second)
	go func() {
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				fmt.Fprintf(log, "gendata: %d/%d %s files (%.0fs)\n", done.Load(), c.n, c.kind, time.Since(t0).Seconds())
			case <-stop:
				return
			}
		}
	}()
	err := g.Wait()
	close(stop)
	if err == nil {
		fmt.Fprintf(log, "gendata: wrote %d %s files to %s in %.1fs\n", c.n, c.kind, dir, time.Since(t0).Seconds())
	}
	return err
}

// writeFile writes file i under its final name, through a temporary one.
func writeFile(c config, dir string, i int) error {
	rng := rand.New(rand.NewPCG(c.seed, uint64(i)))
	var (
		name  string
		write func(w io.Writer) error
	)
	switch {
	case c.kind == "small":
		name = filepath.Join(fmt.Sprintf("d%03d", i/1000), fmt.Sprintf("s%07d", i))
		img := smallImage(rng)
		if i%2 == 0 {
			name += ".png"
			write = func(w io.Writer) error {
				return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
			}
		} else {
			name += ".jpg"
			q := 70 + rng.IntN(26)
			write = func(w io.Writer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: q}) }
		}
	case i%2 == 0:
		name = fmt.Sprintf("l%04d.jpg", i)
		img := photo(rng, c.jpegW, c.jpegH)
		write = func(w io.Writer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: 90}) }
	default:
		name = fmt.Sprintf("l%04d.dcm", i)
		write = func(w io.Writer) error { return writeDICOM(w, rng, c.dcmSize, c.frames) }
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = errors.Join(write(bw), bw.Flush(), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// smallImage draws a gradient and three to eight random rectangles and
// discs, grey for a third of the images and RGB for the rest.
func smallImage(rng *rand.Rand) image.Image {
	w, h := 64+rng.IntN(449), 64+rng.IntN(449)
	grey := rng.IntN(3) == 0
	randColor := func() color.RGBA {
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		if grey {
			c.G, c.B = c.R, c.R
		}
		return c
	}
	c0, c1 := randColor(), randColor()
	angle := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(angle), math.Sin(angle)
	span := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
	type shape struct {
		disc           bool
		x0, y0, x1, y1 int // bounding box
		c              color.RGBA
	}
	shapes := make([]shape, 3+rng.IntN(6))
	for k := range shapes {
		sw, sh := 8+rng.IntN(w/2), 8+rng.IntN(h/2)
		x0, y0 := rng.IntN(w), rng.IntN(h)
		shapes[k] = shape{rng.IntN(2) == 0, x0, y0, x0 + sw, y0 + sh, randColor()}
	}
	lerp := func(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }
	pix := func(x, y int) color.RGBA {
		for k := len(shapes) - 1; k >= 0; k-- {
			s := shapes[k]
			if x < s.x0 || x >= s.x1 || y < s.y0 || y >= s.y1 {
				continue
			}
			if !s.disc {
				return s.c
			}
			rx, ry := float64(s.x1-s.x0)/2, float64(s.y1-s.y0)/2
			ux, uy := (float64(x)-float64(s.x0)-rx)/rx, (float64(y)-float64(s.y0)-ry)/ry
			if ux*ux+uy*uy <= 1 {
				return s.c
			}
		}
		t := (float64(x)*dx + float64(y)*dy) / span
		t -= math.Floor(t)
		return color.RGBA{lerp(c0.R, c1.R, t), lerp(c0.G, c1.G, t), lerp(c0.B, c1.B, t), 255}
	}
	if grey {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Pix[y*img.Stride+x] = pix(x, y).R
			}
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := pix(x, y)
			o := y*img.Stride + 4*x
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, 255
		}
	}
	return img
}

// photo makes a w x h RGB image that costs a JPEG encoder what a photo
// does: smooth gradients, a few soft discs, and grain everywhere.
func photo(rng *rand.Rand, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var base [3][3]float64 // per channel: offset, x slope, y slope
	for c := range base {
		base[c] = [3]float64{40 + rng.Float64()*120, (rng.Float64() - 0.5) * 120 / float64(w), (rng.Float64() - 0.5) * 120 / float64(h)}
	}
	type disc struct{ x, y, r2, gain float64 }
	discs := make([]disc, 6+rng.IntN(6))
	for k := range discs {
		r := float64(h) * (0.05 + 0.2*rng.Float64())
		discs[k] = disc{rng.Float64() * float64(w), rng.Float64() * float64(h), r * r, 30 + 60*rng.Float64()}
	}
	// Grain from a xorshift: math/rand per pixel would dominate the run.
	state := rng.Uint64() | 1
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		fy := float64(y)
		for x := range w {
			fx := float64(x)
			light := 0.0
			for _, d := range discs {
				ddx, ddy := fx-d.x, fy-d.y
				if q := ddx*ddx + ddy*ddy; q < d.r2 {
					light += d.gain * (1 - q/d.r2)
				}
			}
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			for c := range 3 {
				grain := float64(int(state>>(8*c))&31) - 16
				v := base[c][0] + base[c][1]*fx + base[c][2]*fy + light + grain
				row[4*x+c] = uint8(min(max(v, 0), 255))
			}
			row[4*x+3] = 255
		}
	}
	return img
}

// sopClass is Multi-frame Grayscale Word Secondary Capture Image Storage:
// the class for a synthetic 16-bit multi-frame image.
const sopClass = "1.2.840.10008.5.1.4.1.1.7.3"

// uid makes a "2.25." UID (an integer from 128 random bits).
func uid(rng *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	return "2.25." + new(big.Int).SetBytes(b[:]).String()
}

// writeDICOM writes a size x size x frames volume of 12-bit values in 16
// bits: an ellipsoid phantom with inner structures and noise, so frames
// differ from one another like the slices of a scan.
func writeDICOM(w io.Writer, rng *rand.Rand, size, frames int) error {
	study, series, instance := uid(rng), uid(rng), uid(rng)
	pixels := make([]byte, 2*size*size*frames)
	cx, cy := float64(size)/2*(0.9+0.2*rng.Float64()), float64(size)/2*(0.9+0.2*rng.Float64())
	ax, ay := float64(size)*(0.3+0.15*rng.Float64()), float64(size)*(0.25+0.15*rng.Float64())
	type blob struct{ x, y, z, r2, v float64 }
	blobs := make([]blob, 5+rng.IntN(5))
	for k := range blobs {
		r := float64(size) * (0.03 + 0.08*rng.Float64())
		blobs[k] = blob{cx + (rng.Float64()-0.5)*ax, cy + (rng.Float64()-0.5)*ay, rng.Float64() * float64(frames), r * r, 300 + 1500*rng.Float64()}
	}
	state := rng.Uint64() | 1
	o := 0
	for f := range frames {
		// The body narrows towards both ends of the volume.
		t := 2*float64(f)/float64(max(frames-1, 1)) - 1
		scale := math.Sqrt(max(1-0.7*t*t, 0.05))
		for y := range size {
			for x := range size {
				ux, uy := (float64(x)-cx)/(ax*scale), (float64(y)-cy)/(ay*scale)
				v := 0.0
				if ux*ux+uy*uy <= 1 {
					v = 1000
					for _, b := range blobs {
						dx, dy, dz := float64(x)-b.x, float64(y)-b.y, (float64(f)-b.z)*3
						if dx*dx+dy*dy+dz*dz < b.r2 {
							v += b.v
						}
					}
				}
				state ^= state << 13
				state ^= state >> 7
				state ^= state << 17
				v += float64(int(state&63) - 32)
				binary.LittleEndian.PutUint16(pixels[o:], uint16(min(max(v, 0), 4095)))
				o += 2
			}
		}
	}
	var (
		ds   dicom.Dataset
		errs []error
	)
	add := func(t tag.Tag, v any) {
		e, err := dicom.NewElement(t, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("element %v: %w", t, err))
			return
		}
		ds.Elements = append(ds.Elements, e)
	}
	add(tag.FileMetaInformationVersion, []byte{0, 1})
	add(tag.MediaStorageSOPClassUID, []string{sopClass})
	add(tag.MediaStorageSOPInstanceUID, []string{instance})
	add(tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}) // explicit VR little endian
	add(tag.ImageType, []string{"DERIVED", "SECONDARY"})
	add(tag.SOPClassUID, []string{sopClass})
	add(tag.SOPInstanceUID, []string{instance})
	add(tag.Modality, []string{"OT"})
	add(tag.StudyInstanceUID, []string{study})
	add(tag.SeriesInstanceUID, []string{series})
	add(tag.SamplesPerPixel, []int{1})
	add(tag.PhotometricInterpretation, []string{"MONOCHROME2"})
	add(tag.NumberOfFrames, []string{strconv.Itoa(frames)})
	add(tag.Rows, []int{size})
	add(tag.Columns, []int{size})
	add(tag.BitsAllocated, []int{16})
	add(tag.BitsStored, []int{12})
	add(tag.HighBit, []int{11})
	add(tag.PixelRepresentation, []int{0})
	// The pixels go in as ready-made little-endian bytes: the library's
	// own path for frames writes one sample at a time through
	// binary.Write, seconds per file at this size.
	add(tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: pixels})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return dicom.Write(w, ds)
}
