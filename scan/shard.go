package scan

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard selects a deterministic part of every dataset's files, so that N
// machines can scan one shared tree without overlap: shard K of N (K from
// 1) takes the files whose FNV-1a hash of dataset name and path is K-1
// modulo N. Every machine computes the same split without talking to the
// others, whatever order its walk finds the files in, and the N parts
// exported and imported into one index (package interchange) give the
// index one full scan gives. The zero value takes every file.
//
// A sharded scan of a dataset an index holds whole removes the other
// shards' files from it, as a rescan removes vanished files: scan each
// shard into an index of its own.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N" with 1 <= K <= N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 1 || ki > ni {
		return Shard{}, fmt.Errorf("scan: bad shard %q: want K/N with 1 <= K <= N", s)
	}
	return Shard{K: ki, N: ni}, nil
}

// String is the shard as ParseShard reads it; "" for the zero value.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Includes reports whether the file at path of dataset belongs to the
// shard.
func (s Shard) Includes(dataset, path string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(dataset))
	h.Write([]byte{0})
	h.Write([]byte(path))
	return h.Sum64()%uint64(s.N) == uint64(s.K-1)
}
