package copycat

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat/interchange"
)

// ErrPairsMismatch matches an ImportPairs of pairs computed on other
// images than the index holds, or of files from different outputs.
var ErrPairsMismatch = interchange.ErrPairsMismatch

// PairsSummary is what ImportPairs did. Its JSON form is what
// `copycat import --pairs --json` prints.
type PairsSummary = interchange.PairsSummary

// ImportPairs loads verified pairs computed outside the index (the pairs
// files `copycat-beam pairs` writes, in the schema of package
// interchange) into the index, replacing pairs imported before. The index
// must hold exactly the images the pairs were computed on, else the error
// matches ErrPairsMismatch and nothing changes. Clusters, Lineage and
// reports then take the pairs instead of searching
// (ClusterStats.ImportedPairs counts them) when asked for the distance and
// transforms option the pairs were computed with, until a scan, import or
// forget changes the images: they search on their own again then.
// Importing the same pairs twice changes nothing. A damaged file fails
// with an error matching ErrBadExport.
func (ix *Index) ImportPairs(ctx context.Context, paths []string) (*PairsSummary, error) {
	if ix.readOnly {
		return nil, fmt.Errorf("import pairs into %s: %w", ix.Dir(), ErrReadOnly)
	}
	return interchange.ImportPairs(ctx, ix.st, paths)
}
