package match

import (
	"path"
	"strconv"
	"strings"
)

// Acquisition is what SameAcquisition reads of an image.
type Acquisition struct {
	Dataset       string // any value that is equal for images of one dataset
	Path          string // path inside the dataset
	Format        string
	Width, Height int
	SOP, Series   string // DICOM SOP Instance and Series UIDs
}

// SameAcquisition reports whether a and b are distinct images of one
// acquisition, which look alike by nature and are never copies of each
// other unless their pixels are identical: two frames of one file (a cine
// loop); two instances of one DICOM series (adjacent slices, repeated
// acquisitions); or two consecutive frames of a sequence saved as files
// (SequenceNeighbours: one folder, one format and size, names numbered n
// and n+1). The verification study (index/doc.go) found no thumbnail or
// hash threshold that tells these from JPEG re-encodings; the metadata
// does. A copy made by an anonymiser that remaps UIDs gets a new series
// UID, so it is not caught by this rule; Group's cannot-links do the rest.
func SameAcquisition(a, b Acquisition) bool {
	switch {
	case a.Dataset != b.Dataset:
		return a.Series != "" && a.Series == b.Series && a.SOP != b.SOP
	case a.Path == b.Path:
		return true
	case a.Series != "" && a.Series == b.Series && a.SOP != b.SOP:
		return true
	}
	return a.Format == b.Format && a.Width == b.Width && a.Height == b.Height && SequenceNeighbours(a.Path, b.Path)
}

// SequenceNeighbours reports whether two paths name consecutive frames of
// a numbered sequence: the same folder, and file names that are equal but
// for their last run of digits, which differ by one (frame009.png and
// frame010.png, rubberwhale1.png and rubberwhale2.png).
func SequenceNeighbours(a, b string) bool {
	da, na := path.Split(a)
	db, nb := path.Split(b)
	if da != db {
		return false
	}
	pa, xa, sa, ok := lastNumber(na)
	if !ok {
		return false
	}
	pb, xb, sb, ok := lastNumber(nb)
	return ok && pa == pb && sa == sb && (xa-xb == 1 || xb-xa == 1)
}

// lastNumber splits name around its last run of decimal digits (at most
// 18 of them, so the value fits an int64).
func lastNumber(name string) (prefix string, n int64, suffix string, ok bool) {
	end := strings.LastIndexFunc(name, isDigit) + 1
	if end == 0 {
		return "", 0, "", false
	}
	start := strings.LastIndexFunc(name[:end], func(r rune) bool { return !isDigit(r) }) + 1
	if end-start > 18 {
		return "", 0, "", false
	}
	n, err := strconv.ParseInt(name[start:end], 10, 64)
	return name[:start], n, name[end:], err == nil
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// unionFind is a disjoint-set forest over 0..n-1, by size with path
// halving: the clustering of index and the grouping of lineage share it.
type unionFind struct {
	parent []uint32
	size   []uint32
}

// newUnionFind returns n singletons.
func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]uint32, n), size: make([]uint32, n)}
	for i := range u.parent {
		u.parent[i] = uint32(i)
		u.size[i] = 1
	}
	return u
}

// Find returns the representative of x's set.
func (u *unionFind) Find(x uint32) uint32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// Union joins the sets of a and b and returns the new representative.
func (u *unionFind) Union(a, b uint32) uint32 {
	ra, rb := u.Find(a), u.Find(b)
	if ra == rb {
		return ra
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
	return ra
}

// Size returns the size of x's set.
func (u *unionFind) Size(x uint32) int { return int(u.size[u.Find(x)]) }
