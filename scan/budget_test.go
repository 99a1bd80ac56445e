package scan

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadBudget(t *testing.T) {
	const limit = 100
	tests := []struct {
		name  string
		sizes []int64
	}{
		{"small files share it", []int64{10, 20, 30, 5, 1, 0, 40, 25}},
		{"a file over the budget runs alone", []int64{10, 250, 10, 100, 99, 1}},
		{"unknown sizes take a byte", []int64{0, 0, -1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newReadBudget(limit)
			var held, peak atomic.Int64
			var wg sync.WaitGroup
			for range 8 {
				for _, size := range tt.sizes {
					wg.Go(func() {
						release, err := b.acquire(context.Background(), size)
						if err != nil {
							t.Error(err)
							return
						}
						n := held.Add(min(max(size, 1), limit))
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						time.Sleep(time.Millisecond)
						held.Add(-min(max(size, 1), limit))
						release()
					})
				}
			}
			wg.Wait()
			if got := peak.Load(); got > limit || got <= 0 {
				t.Errorf("peak bytes held = %d, want 1..%d", got, limit)
			}
			if got := held.Load(); got != 0 {
				t.Errorf("bytes held after all released = %d, want 0", got)
			}
		})
	}
}

func TestReadBudgetCancel(t *testing.T) {
	b := newReadBudget(10)
	release, err := b.acquire(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire on a full budget after the deadline: err = %v, want %v", err, context.DeadlineExceeded)
	}
	release()
	release2, err := b.acquire(context.Background(), 5)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	release2()
}

func TestNewReadBudgetDefault(t *testing.T) {
	if got, want := newReadBudget(0).max, int64(DefaultReadBudget); got != want {
		t.Errorf("newReadBudget(0).max = %d, want %d", got, want)
	}
}
