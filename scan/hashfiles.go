package scan

import (
	"context"

	"github.com/copycat-dev/copycat/hash"
	"github.com/copycat-dev/copycat/ingest"
)

// FrameHash is the fingerprint of one image (one frame) of a file.
type FrameHash struct {
	Path        string
	Frame       int
	Fingerprint hash.Fingerprint
	Err         error // a *FileError: the file could not be read or decoded; the other fields are zero
}

// HashFiles decodes each file (any format copycat reads, by content) and
// calls fn with the fingerprint of every frame, in order. A file that cannot
// be decoded is reported to fn with Err set, and the next one is hashed.
// It backs `copycat hash`, which is for a handful of files, so it runs on the
// caller's goroutine.
func HashFiles(ctx context.Context, paths []string, opts ingest.Options, fn func(FrameHash) error) error {
	h := hash.NewHasher()
	dec := ingest.NewDecoder(opts)
	defer dec.Close()
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := ReadFile(p)
		if err != nil {
			if ferr := fn(FrameHash{Path: p, Err: err}); ferr != nil {
				return ferr
			}
			continue
		}
		_, imgs, err := decodeImages(dec, h, nil, data, &stageTimer{})
		if err != nil {
			if ferr := fn(FrameHash{Path: p, Err: fileError(p, err)}); ferr != nil {
				return ferr
			}
			continue
		}
		for _, im := range imgs {
			if err := fn(FrameHash{Path: p, Frame: im.Frame, Fingerprint: im.Fingerprint}); err != nil {
				return err
			}
		}
	}
	return nil
}
