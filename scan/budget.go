package scan

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// DefaultReadBudget is the default Options.ReadBudget: room for one large
// multi-frame DICOM (a 100-frame 512x512 16-bit clip is 52 MB) while the
// other workers go on with small files.
const DefaultReadBudget = 64 << 20

// readBudget bounds the bytes of file data that the workers hold at once.
// A worker holds a whole file while it decodes it (DICOM and archive members
// are read into memory), so without it a 52 MB clip in every worker would
// multiply memory by the worker count. A file larger than the budget takes
// all of it and is processed alone. The semaphore is FIFO, so a large file
// waits for the small ones ahead of it and is never starved by later ones.
type readBudget struct {
	sem *semaphore.Weighted
	max int64
}

func newReadBudget(n int64) readBudget {
	if n <= 0 {
		n = DefaultReadBudget
	}
	return readBudget{sem: semaphore.NewWeighted(n), max: n}
}

// acquire waits until size bytes fit (at most the whole budget, at least 1
// byte, so that empty and unreadable entries also take their turn) and
// returns the function that gives them back.
func (b readBudget) acquire(ctx context.Context, size int64) (release func(), err error) {
	n := min(max(size, 1), b.max)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { b.sem.Release(n) }, nil
}
