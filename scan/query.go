package scan

import (
	"context"
	"os"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// FileError reports a file that could not be read or decoded. It keeps the
// cause, so errors.As finds ingest's typed errors (*ingest.CorruptError,
// *ingest.UnsupportedError, *ingest.TooLargeError) or the *fs.PathError
// through it, and errors.Is matches ingest.ErrCorrupt and its kin.
type FileError struct {
	Path   string
	Reason string // the one line a scan records for such a file
	Err    error  // the cause
}

func (e *FileError) Error() string { return e.Path + ": " + e.Reason }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// fileError wraps a per-file failure with its path and one-line reason.
func fileError(path string, err error) *FileError {
	return &FileError{Path: path, Reason: failureReason(err), Err: err}
}

// ReadFile reads a file to decode, as a scan would: a failure is a
// *FileError with the reason a scan records.
func ReadFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	return data, nil
}

// QueryOptions configure Worker.Query.
type QueryOptions struct {
	// MaxDistance is the largest pHash distance reported; negative means
	// index.DefaultMaxDistance, 0 finds exact copies only.
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
}

// Frames decodes one file's data the way a scan does and returns the
// record a scan would store for each of its frames: fingerprints, digests
// and metadata. A file that cannot be decoded gives a *FileError.
func (w *Worker) Frames(path string, data []byte) ([]index.Image, error) {
	_, imgs, err := decodeImages(w.dec, w.h, nil, data, &stageTimer{})
	if err != nil {
		return nil, fileError(path, err)
	}
	fileSHA := sha256Sum(data)
	for i := range imgs {
		imgs[i].Path = path
		imgs[i].FileSize = int64(len(data))
		imgs[i].FileSHA256 = fileSHA
	}
	return imgs, nil
}

// Query decodes data as a scan does and looks every frame up in st, which
// the caller keeps open across queries: its search structure is built
// once. The Worker must have been made with st's salt (NewWorker with
// ingest.Options{Salt: st.Salt()}), so DICOM identities compare. A file
// that cannot be decoded gives a *FileError.
func (w *Worker) Query(ctx context.Context, st *index.Store, path string, data []byte, opts QueryOptions) ([]QueryResult, error) {
	imgs, err := w.Frames(path, data)
	if err != nil {
		return nil, err
	}
	out := make([]QueryResult, 0, len(imgs))
	for _, im := range imgs {
		q := im.AsQuery()
		q.MaxDistance, q.NoTransforms = opts.MaxDistance, opts.NoTransforms
		ms, err := st.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, QueryResult{Path: path, Frame: im.Frame, Matches: ms})
	}
	return out, nil
}

// NewQueryWorker returns a Worker for queries against st: it decodes like a
// scan of st does (same salt for DICOM identities, same reduced decoding).
func NewQueryWorker(st *index.Store) *Worker {
	return NewWorker(ingest.Options{Salt: st.Salt()})
}
