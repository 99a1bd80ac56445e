package lineage

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

// A slice dump of a NIfTI volume is the slice under some window: the
// values low..high mapped to 0..255, clipped beyond. The scan fingerprints
// one rendering of each slice (its window's range is the first of
// index.Volume.Windows) and keeps the range every other window has in the
// slice. Between two windows the grey levels of unclipped pixels are
// linear, dump = a*rendering + b, and so are the 32x32 thumbnails' cell
// averages where no pixel of the cell is clipped. The window of a dump is
// the one whose line is nearest to the line fitted to the two thumbnails.

// windowUnknown names the window of a dump that no candidate window
// explains.
const windowUnknown = "unknown"

// Fit parameters, from TestNIfTIDumpWindows (internal/reupload):
const (
	// windowClip keeps the cells more than this many levels inside 0..255
	// in both thumbnails: a cell near 0 or 255 may hold clipped pixels,
	// and JPEG rings at the edges of clipped areas (with 1 level, 4 of
	// the 6 pairs of inia19's cal_min/cal_max JPEG dumps went unnamed or
	// unknown; with 8, none).
	windowClip = 8
	// windowMinCells and windowMinSpread are what the fit needs: enough
	// cells, and rendering levels spread over enough of the range to pin
	// the slope down. Fewer (a slice of the volume's edge, nearly
	// blank) gives no verdict.
	windowMinCells  = 16
	windowMinSpread = 24.0
	// windowTolerance is how far, in the dump's grey levels over the
	// levels the cells span, a window's line may be from the fitted one
	// and still be named: JPEG q90 and the scripts' truncation to uint8
	// move cell averages by about a level.
	windowTolerance = 4.0
	// windowMaxResidual is the largest median distance of the cells
	// kept from the fitted line: beyond, the thumbnails are not one
	// picture under two windows (a crop that shifts the cells, another
	// slice). The study's dumps fit within 1.1.
	windowMaxResidual = 2.0
	// windowTie is how much farther than the nearest window another may
	// be and still be named with it: the two map the slice alike.
	windowTie = 1.0
)

// dumpWindow names the windows under which dump can have been made of
// the NIfTI slice whose fingerprinted rendering is orig, dump looking like
// orig after t; windows are the slice's (index.Volume.Windows, the
// rendering's first). It returns nil when the thumbnails do not say (too
// few unclipped cells, a flat rendering), [windowUnknown] when no window
// is near, else the nearest window and those within windowTie of it (two
// windows can map a slice alike: its maximum is the volume's), in the
// order of windows; and the raw values the dump maps to 0 and 255, as
// estimated.
func dumpWindow(orig, dump *[hash.ThumbSize * hash.ThumbSize]uint8, t match.Transform, windows []index.VolumeWindow) (names []string, low, high float64) {
	if len(windows) == 0 {
		return nil, 0, 0
	}
	lo0, hi0 := float64(windows[0].Low), float64(windows[0].High)
	if !(hi0 > lo0) {
		return nil, 0, 0
	}
	ot := match.TransformThumb(orig, t)
	var xs, ys []float64
	for i := range ot {
		x, y := float64(ot[i]), float64(dump[i])
		if x > windowClip && x < 255-windowClip && y > windowClip && y < 255-windowClip {
			xs, ys = append(xs, x), append(ys, y)
		}
	}
	a, b, xmin, xmax, mad, ok := robustLine(xs, ys)
	if !ok || a <= 0 || mad > windowMaxResidual {
		return nil, 0, 0
	}
	// The raw values of the dump's black and white: the rendering's
	// levels there, through the rendering's window.
	raw := func(level float64) float64 { return lo0 + (level-b)/a*(hi0-lo0)/255 }
	low, high = raw(0), raw(255)
	// Each window's distance: how far its line (dump levels from
	// rendering levels) is from the fitted one, at worst, over the
	// levels the cells span. That is the nearest (low, high), weighed
	// where the thumbnails pin the line down rather than extrapolated
	// to 0 and 255.
	dist := make([]float64, len(windows))
	best := math.Inf(1)
	for i, w := range windows {
		lo, hi := float64(w.Low), float64(w.High)
		dist[i] = math.Inf(1)
		if !(hi > lo) {
			continue
		}
		aw := (hi0 - lo0) / (hi - lo)
		bw := 255 * (lo0 - lo) / (hi - lo)
		dist[i] = max(math.Abs((a-aw)*xmin+b-bw), math.Abs((a-aw)*xmax+b-bw))
		best = min(best, dist[i])
	}
	if best > windowTolerance {
		return []string{windowUnknown}, low, high
	}
	for i, w := range windows {
		if dist[i] <= min(best+windowTie, windowTolerance) && !slices.Contains(names, w.Name) {
			names = append(names, w.Name)
		}
	}
	return names, low, high
}

// robustLine fits y = a*x + b by least squares, dropping the points far
// off the line (cells with clipped pixels under one window and not the
// other) until none is, and returns the line and the span of x it was
// fitted on, and the median absolute residual of the points kept; ok is
// false when too few points, or too narrow a span, remain.
func robustLine(xs, ys []float64) (a, b, xmin, xmax, mad float64, ok bool) {
	keep := make([]bool, len(xs))
	for i := range keep {
		keep[i] = true
	}
	res := make([]float64, 0, len(xs))
	for range 16 {
		var n, sx, sy, sxx, sxy float64
		xmin, xmax = math.Inf(1), math.Inf(-1)
		for i, k := range keep {
			if !k {
				continue
			}
			x, y := xs[i], ys[i]
			n++
			sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
			xmin, xmax = min(xmin, x), max(xmax, x)
		}
		if n < windowMinCells || xmax-xmin < windowMinSpread {
			return 0, 0, 0, 0, 0, false
		}
		den := n*sxx - sx*sx
		if den == 0 {
			return 0, 0, 0, 0, 0, false
		}
		a = (n*sxy - sx*sy) / den
		b = (sy - a*sx) / n
		// Drop what lies beyond 2.5 median absolute residuals (about
		// 1.7 standard deviations of normal noise: tight, so that a
		// quarter of the cells off the line cannot hold the fit), and
		// never within 1.5 levels: that is rounding and JPEG noise.
		res = res[:0]
		for i, k := range keep {
			if k {
				res = append(res, math.Abs(ys[i]-a*xs[i]-b))
			}
		}
		slices.Sort(res)
		mad = res[len(res)/2]
		limit := max(1.5, 2.5*mad)
		changed := false
		for i, k := range keep {
			if k && math.Abs(ys[i]-a*xs[i]-b) > limit {
				keep[i], changed = false, true
			}
		}
		if !changed {
			return a, b, xmin, xmax, mad, true
		}
	}
	return a, b, xmin, xmax, mad, true
}

// niftiWindows names the windows of every closest pair of a NIfTI slice
// and a raster image (closest.windows): the two images' thumbnails are
// read from the index, which lineage does not keep in memory.
func (a *analysis) niftiWindows(ctx context.Context) error {
	for _, key := range slices.SortedFunc(maps.Keys(a.pairs), cmpKey) {
		cs := a.pairs[key]
		for gi, c := range cs {
			o, p, t := c.a, c.b, c.transform
			if a.images[o].format != "nifti" {
				o, p, t = p, o, t.Inverse()
			}
			// A pair related by a crop is tried too: a window that clips
			// much of the slice away looks like a crop to the matcher,
			// and the fit's residual refuses a real crop's shifted cells.
			if a.images[o].format != "nifti" || a.images[p].format == "nifti" || len(a.images[o].windows) == 0 ||
				c.kind == match.IdenticalFile || c.minMax {
				continue
			}
			oi, err := a.st.Image(ctx, a.images[o].id)
			if err != nil {
				return fmt.Errorf("lineage: %w", err)
			}
			pi, err := a.st.Image(ctx, a.images[p].id)
			if err != nil {
				return fmt.Errorf("lineage: %w", err)
			}
			c.windows, _, _ = dumpWindow(&oi.Fingerprint.Thumb, &pi.Fingerprint.Thumb, t, a.images[o].windows)
			cs[gi] = c
		}
	}
	return nil
}

// majorityWindow returns the window of counts named in the most pairs (a
// window before windowUnknown on a tie, then name order), and "" for
// none.
func majorityWindow(counts map[string]int) string {
	names := slices.Collect(maps.Keys(counts))
	if len(names) == 0 {
		return ""
	}
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(counts[y], counts[x]), cmp.Compare(boolInt(x == windowUnknown), boolInt(y == windowUnknown)), cmp.Compare(x, y))
	})
	return names[0]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
