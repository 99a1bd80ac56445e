// Package corpusinfo is what copycat's measurement studies know about the
// shared test corpus (../shared/corpus, see its README.md) beyond its
// MANIFEST: which files are the same picture and which are alike but
// distinct. The hash robustness study and the index verification study
// both judge pairs by it, so they count false matches over the same pairs.
// Paths are relative to the corpus root, with forward slashes.
package corpusinfo

import "regexp"

// sameGroup names the corpus files that are the same picture (README.md:
// "same pixels, different bytes", "same picture after a lossy step",
// "transformed copies"); pairs inside a group are not distinct images.
// Groups found by the robustness study's own close-pair listing and checked
// by eye are marked as such.
var sameGroup = []struct {
	name string
	re   *regexp.Regexp
}{
	{"video-001 encodings", regexp.MustCompile(`go-stdlib-variants/video-00[15]`)},
	{"ITK proton density slice", regexp.MustCompile(`itk/BrainProtonDensitySlice`)},
	{"ITK T1 slice", regexp.MustCompile(`itk/BrainT1Slice`)},
	{"ELA original/modified", regexp.MustCompile(`opencv/ela_`)},
	{"butterfly (checked by eye)", regexp.MustCompile(`opencv/(dnn_superres_)?butterfly\.`)},
	{"home (checked by eye)", regexp.MustCompile(`opencv/(reg_)?home\.`)},
}

// hardNegative lists the corpus README's "similar but distinct" images:
// stereo pairs, sequences and repeated acquisitions. A pair is a hard
// negative when both files match the same pattern.
var hardNegative = []*regexp.Regexp{
	regexp.MustCompile(`opencv/aloe[LR]\.`),
	regexp.MustCompile(`opencv/(left|right)\.jpg`),
	regexp.MustCompile(`opencv/leuven[AB]\.`),
	regexp.MustCompile(`opencv/graf[13]\.`),
	regexp.MustCompile(`opencv/aero[13]\.`),
	regexp.MustCompile(`opencv/rubberwhale[12]\.`),
	regexp.MustCompile(`opencv/basketball[12]\.`),
	regexp.MustCompile(`opencv/(left|right)[01][0-9]\.jpg`), // chessboard sequence
	regexp.MustCompile(`skimage/motorcycle_(left|right)`),
	regexp.MustCompile(`scratch/sports_basketball-court1-[ab]`),
	regexp.MustCompile(`scratch/outdoors_brick-wall[12]\.`),
	regexp.MustCompile(`scratch/outdoors_train-tracks[12]\.`),
	regexp.MustCompile(`dicom/heudiconv/b0dwi_for_fmap\+0000[123]\.dcm`), // repeated b0 acquisitions
	regexp.MustCompile(`dicom/suyashkumar/[12]\.dcm`),
}

// SameGroup returns the name of the group of copies rel belongs to, or "".
func SameGroup(rel string) string {
	for _, g := range sameGroup {
		if g.re.MatchString(rel) {
			return g.name
		}
	}
	return ""
}

// HardNegative reports whether a and b are distinct images that the corpus
// README lists as alike (both match one of its patterns).
func HardNegative(a, b string) bool {
	if a == b {
		return false
	}
	for _, re := range hardNegative {
		if re.MatchString(a) && re.MatchString(b) {
			return true
		}
	}
	return false
}
