package scan

import (
	"fmt"
	"testing"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"1/1", Shard{1, 1}, true},
		{"3/4", Shard{3, 4}, true},
		{"0/4", Shard{}, false},
		{"5/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
		{"", Shard{}, false},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

// TestShardPartition checks that the N shards split the files: each file
// in exactly one, every shard within 10% of an even share, and the split
// depending on the dataset too.
func TestShardPartition(t *testing.T) {
	const files = 20000
	for _, n := range []int{1, 2, 3, 7} {
		counts := make([]int, n)
		moved := 0
		for i := range files {
			path := fmt.Sprintf("d%03d/s%07d.png", i/1000, i)
			in := 0
			for k := 1; k <= n; k++ {
				if (Shard{K: k, N: n}).Includes("train", path) {
					counts[k-1]++
					in++
					if n > 1 && !(Shard{K: k, N: n}).Includes("test", path) {
						moved++
					}
				}
			}
			if in != 1 {
				t.Fatalf("N=%d: %s is in %d shards", n, path, in)
			}
		}
		for k, c := range counts {
			if share := float64(c) * float64(n) / files; share < 0.9 || share > 1.1 {
				t.Errorf("shard %d/%d holds %d of %d files", k+1, n, c, files)
			}
		}
		if n > 1 && moved == 0 {
			t.Errorf("N=%d: the dataset name does not change the split", n)
		}
	}
	if !(Shard{}).Includes("x", "y") {
		t.Error("the zero Shard leaves files out")
	}
}
