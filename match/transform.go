package match

import (
	"fmt"

	"github.com/copycat-dev/copycat/hash"
)

// Transform is one of the eight rotations and mirrors, numbered as
// hash.Fingerprint.Dihedral is (hash.Identity ... hash.Transverse). In a
// Result it is what was done to the first image to make the second: the
// second looks like the first after it.
type Transform uint8

// The transforms, with the meanings of hash.Rot90 and the rest.
const (
	Identity   Transform = hash.Identity
	Rotate90   Transform = hash.Rot90  // counter-clockwise
	Rotate180  Transform = hash.Rot180 // half a turn
	Rotate90CW Transform = hash.Rot270 // clockwise
	FlipH      Transform = hash.FlipH  // left-right mirror
	FlipV      Transform = hash.FlipV  // top-bottom mirror
	Transpose  Transform = hash.Transpose
	Transverse Transform = hash.Transverse
)

// String names the transform as the CLI, JSON and reports show it.
func (t Transform) String() string {
	switch t {
	case Identity:
		return "none"
	case Rotate90:
		return "rotate-90-ccw"
	case Rotate180:
		return "rotate-180"
	case Rotate90CW:
		return "rotate-90-cw"
	case FlipH:
		return "flip-left-right"
	case FlipV:
		return "flip-top-bottom"
	case Transpose:
		return "transpose"
	case Transverse:
		return "transverse"
	}
	return fmt.Sprintf("transform(%d)", uint8(t))
}

// MarshalText makes transforms appear as names in JSON.
func (t Transform) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// SwapsAxes reports whether t exchanges width and height.
func (t Transform) SwapsAxes() bool {
	switch t {
	case Rotate90, Rotate90CW, Transpose, Transverse:
		return true
	}
	return false
}

// Then returns the transform that applies t, then u.
func (t Transform) Then(u Transform) Transform { return compose[t&7][u&7] }

// Inverse returns the transform that undoes t.
func (t Transform) Inverse() Transform { return inverse[t&7] }

// compose[t][u] is t then u; inverse[t] undoes t. Both are worked out
// once from Source, which defines the transforms.
var compose, inverse = func() (c [8][8]Transform, inv [8]Transform) {
	// Destination pixel -> source pixel on a 3x3 grid, whose 9 pixels
	// tell all eight transforms apart.
	const n = 3
	apply := func(ts []Transform, x, y int) (int, int) {
		// The image after ts[0] then ts[1]: its pixel (x, y) comes from
		// the pixel of the image before the last transform given by Source.
		for i := len(ts) - 1; i >= 0; i-- {
			x, y = Source(x, y, n, ts[i])
		}
		return x, y
	}
	for t := range Transform(8) {
		for u := range Transform(8) {
			for w := range Transform(8) {
				same := true
				for p := range n * n {
					x0, y0 := apply([]Transform{t, u}, p%n, p/n)
					x1, y1 := apply([]Transform{w}, p%n, p/n)
					same = same && x0 == x1 && y0 == y1
				}
				if same {
					c[t][u] = w
					if w == Identity {
						inv[t] = u
					}
				}
			}
		}
	}
	return c, inv
}()

// Source maps pixel (x, y) of an n x n square after transform t to the
// pixel of the square before it that lands there, with the meanings of
// hash.Rot90 and the rest (those of the imaging package: Rotate90 turns
// counter-clockwise).
func Source(x, y, n int, t Transform) (int, int) {
	m := n - 1
	switch t & 7 {
	case Rotate90: // the top-right corner goes to the top-left
		return m - y, x
	case Rotate180:
		return m - x, m - y
	case Rotate90CW:
		return y, m - x
	case FlipH:
		return m - x, y
	case FlipV:
		return x, m - y
	case Transpose:
		return y, x
	case Transverse:
		return m - y, m - x
	}
	return x, y
}

// Kind says how two images relate, strongest first.
type Kind uint8

// The kinds of relation. A pair has the strongest kind that applies;
// Representative marks the member of a group the others are described
// against.
const (
	Representative    Kind = iota
	IdenticalFile          // same file bytes (SHA-256), same frame
	IdenticalPixels        // same decoded pixels (pixel SHA-256)
	SameDICOMInstance      // same SOPInstanceUID and frame, pixels differ (re-encoded)
	NearDuplicate          // pHash within the distance asked for
)

// String returns the kind's name as the CLI and JSON show it.
func (k Kind) String() string {
	switch k {
	case Representative:
		return "representative"
	case IdenticalFile:
		return "identical-file"
	case IdenticalPixels:
		return "identical-pixels"
	case SameDICOMInstance:
		return "same-dicom-instance"
	case NearDuplicate:
		return "near-duplicate"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText makes kinds appear as names in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Exact reports whether k is one of the exact kinds (identical file,
// pixels or DICOM instance).
func (k Kind) Exact() bool { return k >= IdenticalFile && k <= SameDICOMInstance }
