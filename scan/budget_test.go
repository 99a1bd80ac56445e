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
						hold, err := b.acquire(context.Background(), size)
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
						hold.release()
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
	hold, err := b.acquire(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire on a full budget after the deadline: err = %v, want %v", err, context.DeadlineExceeded)
	}
	hold.release()
	hold2, err := b.acquire(context.Background(), 5)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	hold2.release()
}

func TestNewReadBudgetDefault(t *testing.T) {
	if got, want := newReadBudget(0).max, int64(DefaultReadBudget); got != want {
		t.Errorf("newReadBudget(0).max = %d, want %d", got, want)
	}
}

// TestReadBudgetGrow has workers take a file's bytes, then grow the hold
// by its decoding cost, as the scan does: what is held never exceeds the
// budget, every worker gets through (a hold that grows never waits while
// holding part of the budget), and a cost over the budget runs alone.
func TestReadBudgetGrow(t *testing.T) {
	const limit = 100
	files := []struct{ size, cost int64 }{
		{5, 60}, {5, 60}, {10, 0}, {3, 200}, {40, 40}, {1, 99}, {0, 0}, {20, 10},
	}
	b := newReadBudget(limit)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		for _, f := range files {
			wg.Go(func() {
				hold, err := b.acquire(ctx, f.size)
				if err != nil {
					t.Error(err)
					return
				}
				if err := hold.grow(ctx, f.cost); err != nil {
					t.Errorf("grow: %v (a deadlock would end here)", err)
					return
				}
				if got, want := hold.n, min(max(f.size, 1)+f.cost, limit); got != want {
					t.Errorf("hold of %d+%d bytes = %d, want %d", f.size, f.cost, got, want)
				}
				n := held.Add(hold.n)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				held.Add(-hold.n)
				hold.release()
			})
		}
	}
	wg.Wait()
	if got := peak.Load(); got > limit || got <= 0 {
		t.Errorf("peak bytes held = %d, want 1..%d", got, limit)
	}
}
