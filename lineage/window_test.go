package lineage

import (
	"math"
	"slices"
	"testing"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/match"
)

type thumbT = [hash.ThumbSize * hash.ThumbSize]uint8

// windowSlice is a synthetic slice at thumbnail resolution: a black
// border (value 0) around a textured inside of values 20..420, so that a
// shifted copy does not fit a line.
func windowSlice() [hash.ThumbSize * hash.ThumbSize]float64 {
	var v [hash.ThumbSize * hash.ThumbSize]float64
	for i := range v {
		x, y := i%hash.ThumbSize, i/hash.ThumbSize
		if x >= 3 && x < 29 && y >= 3 && y < 29 {
			v[i] = 20 + float64((i*7919)%401)
		}
	}
	return v
}

// renderThumb maps values lo..hi to 0..255, clipping beyond, truncating
// as a numpy script does.
func renderThumb(v [hash.ThumbSize * hash.ThumbSize]float64, lo, hi float64) thumbT {
	var t thumbT
	for i, x := range v {
		t[i] = uint8(min(max((x-lo)/(hi-lo), 0), 1) * 255)
	}
	return t
}

func TestDumpWindow(t *testing.T) {
	v := windowSlice()
	// The candidate windows as the record keeps them: the rendering's
	// first.
	windows := []index.VolumeWindow{
		{Name: "percentile 0.5-99.5", Low: 0, High: 380},
		{Name: "min-max per slice", Low: 0, High: 420},
		{Name: "min-max per volume", Low: 0, High: 900},
		{Name: "percentile 1-99", Low: 0, High: 340},
		{Name: "cal_min/cal_max", Low: 100, High: 300},
	}
	orig := renderThumb(v, 0, 380)
	shifted := func(th thumbT) thumbT {
		var s thumbT
		for i := range s {
			x, y := i%hash.ThumbSize, i/hash.ThumbSize
			s[i] = th[y*hash.ThumbSize+(x+1)%hash.ThumbSize]
		}
		return s
	}
	flat := thumbT{}
	for i := range flat {
		flat[i] = 90
	}
	tied := slices.Clone(windows)
	tied[3].High = 420 // percentile 1-99 maps this slice as its min-max does
	for _, tt := range []struct {
		name    string
		dump    thumbT
		t       match.Transform
		windows []index.VolumeWindow
		want    []string
		low     float64 // the raw values estimated at 0 and 255, when want names one window
		high    float64
	}{
		{"the rendering's own window", renderThumb(v, 0, 380), match.Identity, windows, []string{"percentile 0.5-99.5"}, 0, 380},
		{"slice min-max", renderThumb(v, 0, 420), match.Identity, windows, []string{"min-max per slice"}, 0, 420},
		{"volume min-max", renderThumb(v, 0, 900), match.Identity, windows, []string{"min-max per volume"}, 0, 900},
		{"percentile 1-99", renderThumb(v, 0, 340), match.Identity, windows, []string{"percentile 1-99"}, 0, 340},
		{"cal, clipping both ends", renderThumb(v, 100, 300), match.Identity, windows, []string{"cal_min/cal_max"}, 100, 300},
		{"rotated", match.TransformThumb(ptr(renderThumb(v, 0, 420)), match.Rotate90), match.Rotate90, windows, []string{"min-max per slice"}, 0, 420},
		{"transposed", match.TransformThumb(ptr(renderThumb(v, 0, 900)), match.Transpose), match.Transpose, windows, []string{"min-max per volume"}, 0, 900},
		{"no such window", renderThumb(v, 0, 600), match.Identity, windows, []string{windowUnknown}, 0, 600},
		{"two windows alike", renderThumb(v, 0, 420), match.Identity, tied, []string{"min-max per slice", "percentile 1-99"}, 0, 420},
		{"shifted: not one picture", shifted(renderThumb(v, 0, 420)), match.Identity, windows, nil, 0, 0},
		{"featureless dump", flat, match.Identity, windows, nil, 0, 0},
		{"no windows", renderThumb(v, 0, 420), match.Identity, nil, nil, 0, 0},
		{"flat rendering", renderThumb(v, 0, 420), match.Identity, []index.VolumeWindow{{Name: "x", Low: 5, High: 5}}, nil, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, low, high := dumpWindow(&orig, &tt.dump, tt.t, tt.windows)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("windows %v, want %v", got, tt.want)
			}
			// Within a level of the wider window's range: truncation
			// and rounding of the thumbnails.
			if tt.high > 0 {
				tol := (tt.high - tt.low) / 255 * 1.5
				if math.Abs(low-tt.low) > tol || math.Abs(high-tt.high) > tol {
					t.Errorf("estimated range %.1f..%.1f, want %.1f..%.1f within %.1f", low, high, tt.low, tt.high, tol)
				}
			}
		})
	}
}

func ptr(t thumbT) *thumbT { return &t }

func TestRobustLine(t *testing.T) {
	for _, tt := range []struct {
		name     string
		outliers int // every how many points is off the line (0: none)
		n        int
		spread   float64
		ok       bool
	}{
		{"clean", 0, 100, 200, true},
		{"a tenth off the line", 10, 100, 200, true},
		{"a quarter off the line", 4, 100, 200, true},
		{"too few points", 0, windowMinCells - 1, 200, false},
		{"too narrow", 0, 100, windowMinSpread - 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var xs, ys []float64
			for i := range tt.n {
				x := 20 + tt.spread*float64(i)/float64(tt.n)
				y := 0.6*x + 7
				if tt.outliers > 0 && i%tt.outliers == 0 {
					y -= 40 // a cell with clipped pixels
				}
				xs, ys = append(xs, x), append(ys, y)
			}
			a, b, _, _, mad, ok := robustLine(xs, ys)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if ok && (math.Abs(a-0.6) > 1e-9 || math.Abs(b-7) > 1e-6 || mad > 1e-6) {
				t.Errorf("line %.4f x + %.4f (median residual %.4f), want 0.6 x + 7", a, b, mad)
			}
		})
	}
}

func TestMajorityWindow(t *testing.T) {
	for _, tt := range []struct {
		counts map[string]int
		want   string
	}{
		{nil, ""},
		{map[string]int{"percentile 1-99": 3, "min-max per slice": 5}, "min-max per slice"},
		{map[string]int{windowUnknown: 4, "percentile 1-99": 4}, "percentile 1-99"},
		{map[string]int{"percentile 1-99": 2, "min-max per slice": 2}, "min-max per slice"},
		{map[string]int{windowUnknown: 3}, windowUnknown},
	} {
		if got := majorityWindow(tt.counts); got != tt.want {
			t.Errorf("majorityWindow(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}

// BenchmarkDumpWindow names the window of one pair: lineage does it for
// every closest pair of a NIfTI slice and a dump.
func BenchmarkDumpWindow(b *testing.B) {
	v := windowSlice()
	orig, dump := renderThumb(v, 0, 380), match.TransformThumb(ptr(renderThumb(v, 0, 420)), match.Rotate90)
	windows := []index.VolumeWindow{
		{Name: "percentile 0.5-99.5", Low: 0, High: 380}, {Name: "min-max per slice", Low: 0, High: 420},
		{Name: "min-max per volume", Low: 0, High: 900}, {Name: "percentile 1-99", Low: 0, High: 340},
	}
	b.ReportAllocs()
	for b.Loop() {
		if names, _, _ := dumpWindow(&orig, &dump, match.Rotate90, windows); len(names) != 1 {
			b.Fatal(names)
		}
	}
}
