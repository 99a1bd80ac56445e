package scan

import (
	"context"
	"fmt"
	"os"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// QueryOptions configure QueryFiles.
type QueryOptions struct {
	Index string
	// MaxDistance is the largest pHash distance reported; negative means
	// index.DefaultMaxDistance.
	MaxDistance int
	// NoTransforms looks up the images as they are, not their rotations
	// and mirrors.
	NoTransforms bool
}

// QueryResult is the answer for one image (one frame) of a query file.
type QueryResult struct {
	Path    string
	Frame   int
	Matches []index.Match // nearest first
	Err     error         // the file could not be decoded
}

// QueryFiles decodes each file the way a scan does and looks every frame up
// in the index (opened read-only, so it works beside other readers). fn gets
// one result per frame, or one with Err for a file that cannot be decoded.
func QueryFiles(ctx context.Context, opts QueryOptions, paths []string, fn func(QueryResult) error) error {
	st, err := index.Open(opts.Index, index.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	h := hash.NewHasher()
	dec := ingest.NewDecoder(ingest.Options{Salt: st.Salt(), MinSide: hash.MinSide})
	defer dec.Close()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			if err := fn(QueryResult{Path: p, Err: err}); err != nil {
				return err
			}
			continue
		}
		_, imgs, err := decodeImages(dec, h, data)
		if err != nil {
			if err := fn(QueryResult{Path: p, Err: fmt.Errorf("%s", failureReason(err))}); err != nil {
				return err
			}
			continue
		}
		fileSHA := sha256Sum(data)
		for _, im := range imgs {
			q := index.Query{
				Fingerprint:       im.Fingerprint,
				MinMax:            im.MinMax,
				PixelSHA256:       im.PixelSHA256,
				FileSHA256:        fileSHA,
				SOPInstanceUID:    im.SOPInstanceUID,
				SeriesInstanceUID: im.SeriesInstanceUID,
				Frame:             im.Frame,
				MaxDistance:       opts.MaxDistance,
				NoTransforms:      opts.NoTransforms,
			}
			ms, err := st.Query(q)
			if err != nil {
				return err
			}
			if err := fn(QueryResult{Path: p, Frame: q.Frame, Matches: ms}); err != nil {
				return err
			}
		}
	}
	return nil
}
