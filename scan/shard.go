package scan

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard selects a deterministic part of every dataset's files, so that N
// machines can scan one shared tree without overlap: shard K of N (K from
// 1) takes the files whose hash of dataset name and path (the first 8
// bytes of SHA-256 of name, NUL, path, big-endian) is K-1 modulo N. Not
// FNV-1a: its low bits depend only on the low bits of the input bytes, so
// modulo 2 or 4 it splits numbered files by their digits' parity. Every machine computes the same split without talking to the
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
	h := sha256.New()
	h.Write([]byte(dataset))
	h.Write([]byte{0})
	h.Write([]byte(path))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))%uint64(s.N) == uint64(s.K-1)
}
