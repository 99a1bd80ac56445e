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
// returns what it holds.
func (b readBudget) acquire(ctx context.Context, size int64) (*budgetHold, error) {
	n := min(max(size, 1), b.max)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return &budgetHold{b: b, n: n, want: max(size, 1)}, nil
}

// budgetHold is one file's share of the budget: its bytes first, then,
// once its header is read, the memory its decoding will hold
// (ingest.Decoder.DecodeCost).
type budgetHold struct {
	b    readBudget
	n    int64 // held now
	want int64 // asked for so far, uncapped
}

// grow adds extra bytes to the hold. It takes them at once when they are
// free; otherwise it gives back what it holds and waits for the whole
// amount, so that no worker waits while holding part of the budget (two
// such workers would wait for each other forever). The file's data stays
// in memory meanwhile: a few MB, against the hundreds of MB of pixels it
// waits for.
func (h *budgetHold) grow(ctx context.Context, extra int64) error {
	if extra <= 0 {
		return nil
	}
	h.want += extra
	total := min(h.want, h.b.max)
	if total <= h.n {
		return nil
	}
	if h.b.sem.TryAcquire(total - h.n) {
		h.n = total
		return nil
	}
	h.b.sem.Release(h.n)
	h.n = 0
	if err := h.b.sem.Acquire(ctx, total); err != nil {
		return err
	}
	h.n = total
	return nil
}

// release gives the hold back.
func (h *budgetHold) release() {
	h.b.sem.Release(h.n)
	h.n = 0
}
