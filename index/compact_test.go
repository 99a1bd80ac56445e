package index

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// contentDigest is a digest of every live key and value of the index in
// dir, opened read-only: what Compact must keep exactly.
func contentDigest(tb testing.TB, dir string) (digest string, keys int) {
	tb.Helper()
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	h := sha256.New()
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%d:%x=%d:%x;", len(it.Item().Key()), it.Item().Key(), len(v), v)
			keys++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), keys
}

// rescannedIndex makes an index whose two datasets were rescanned with
// every file changed, rounds times, and one forgotten: most of its value
// log is replaced or deleted records.
func rescannedIndex(tb testing.TB, dir string, files, rounds int) {
	tb.Helper()
	s := openStoreAt(tb, dir, Options{})
	for round := range rounds {
		for _, name := range []string{"keep", "gone"} {
			set := map[string]uint64{}
			for i := range files {
				set[fmt.Sprintf("f/%05d.dcm", i)] = uint64(i + 10000*round)
			}
			scanFiles(tb, s, name, set, func(uint64) int { return 2 })
		}
	}
	if err := s.Forget(tb.Context(), "gone"); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestCompact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	rescannedIndex(t, dir, 200, 4)
	want, keys := contentDigest(t, dir)
	before, err := dirBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	var checks int
	res, err := Compact(t.Context(), dir, CompactOptions{Check: func(next string, copied, total int64) error {
		checks++
		if next != dir+compactSuffix || copied < 0 || total <= 0 {
			t.Errorf("Check(%q, %d, %d)", next, copied, total)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compact: %d keys, %d -> %d bytes (%.0f%%), %.2fs", res.Records, res.Before, res.After, 100*float64(res.After)/float64(res.Before), res.Seconds)
	got, gotKeys := contentDigest(t, dir)
	if got != want || gotKeys != keys {
		t.Errorf("content after compact: %d keys %s, want %d keys %s", gotKeys, got, keys, want)
	}
	if res.Records != int64(keys) {
		t.Errorf("Records = %d, want %d", res.Records, keys)
	}
	// Four scans of two datasets and one forgotten: an eighth is live.
	if res.After*3 > before {
		t.Errorf("after compact %d bytes, before %d: want less than a third", res.After, before)
	}
	if checks == 0 {
		t.Error("Check was never called")
	}
	if _, err := os.Stat(dir + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("compact left %s behind (stat: %v)", dir+compactSuffix, err)
	}
	s := openStoreAt(t, dir, Options{})
	mustCheck(t, s)
	// The compacted index takes new writes.
	scanFiles(t, s, "new", map[string]uint64{"a.dcm": 1}, func(uint64) int { return 1 })
	mustCheck(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("stopped by Check", func(t *testing.T) {
		want, _ := contentDigest(t, dir)
		stop := errors.New("no room")
		_, err := Compact(t.Context(), dir, CompactOptions{Check: func(string, int64, int64) error { return stop }})
		if !errors.Is(err, stop) {
			t.Fatalf("err = %v, want %v", err, stop)
		}
		if got, _ := contentDigest(t, dir); got != want {
			t.Error("a stopped compact changed the index")
		}
		if _, err := os.Stat(dir + compactSuffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a stopped compact left %s behind", dir+compactSuffix)
		}
	})

	t.Run("locked", func(t *testing.T) {
		s := openStoreAt(t, dir, Options{ReadOnly: true})
		defer s.Close()
		if _, err := Compact(t.Context(), dir, CompactOptions{}); !errors.Is(err, ErrLocked) {
			t.Errorf("compact beside a reader: err = %v, want ErrLocked", err)
		}
	})
}

// TestLockFollowsSwap checks that a lock taken on a lock file that was
// replaced (Compact's swap) is not kept: lockDir locks the file at the
// path now.
func TestLockFollowsSwap(t *testing.T) {
	dir := t.TempDir()
	l, err := lockFile(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	path := filepath.Join(dir, LockFileName)
	if !l.current(path) {
		t.Fatal("a fresh lock is not current")
	}
	tmp := filepath.Join(dir, "new.lock")
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if l.current(path) {
		t.Error("the lock on the replaced file still counts as current")
	}
	// The old file's lock is held, the new file's is free: lockDir takes
	// the new one.
	l2, err := lockDir(dir, true)
	if err != nil {
		t.Fatalf("lockDir after the swap: %v", err)
	}
	defer l2.release()
	if !l2.current(path) {
		t.Error("lockDir returned a lock that is not current")
	}
}

// The compact crash test kills a child process running Compact over and
// over at random moments; after each kill the index must hold exactly what
// it held before, be consistent, and open for reading and writing.
const compactEnvDir = "COPYCAT_INDEX_COMPACT_DIR"

// TestCompactChild is the child's body; it does nothing in a normal run.
func TestCompactChild(t *testing.T) {
	dir := os.Getenv(compactEnvDir)
	if dir == "" {
		t.Skip("child process of TestSIGKILLMidCompact only")
	}
	fmt.Println("ready")
	for {
		if _, err := Compact(t.Context(), dir, CompactOptions{}); err != nil {
			fmt.Println("compact failed:", err)
			os.Exit(3)
		}
	}
}

func TestSIGKILLMidCompact(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test: skipped with -short")
	}
	if raceEnabled {
		t.Skip("36 s under -race; make test runs it in its plain pass")
	}
	dir := filepath.Join(t.TempDir(), "idx")
	rescannedIndex(t, dir, 1500, 2)
	want, keys := contentDigest(t, dir)
	start := time.Now()
	if _, err := Compact(t.Context(), dir, CompactOptions{}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	const kills = 8
	leftovers := 0
	for k := range kills {
		cmd := startChild(t, "TestCompactChild", compactEnvDir+"="+dir)
		// Somewhere in the first three compactions.
		delay := time.Duration(rng.Int64N(int64(3*took) + 1))
		time.Sleep(delay)
		killChild(t, cmd, fmt.Sprintf("kill %d (delay %v)", k, delay))
		if _, err := os.Stat(dir + compactSuffix); err == nil {
			leftovers++
		}
		got, gotKeys := contentDigest(t, dir)
		if got != want || gotKeys != keys {
			t.Fatalf("kill %d after %v (seed %d): %d keys %s, want %d keys %s", k, delay, seed, gotKeys, got, keys, want)
		}
		s := openStoreAt(t, dir, Options{})
		mustCheck(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// The writable open deleted what the kill left.
		if _, err := os.Stat(dir + compactSuffix); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("kill %d: %s still there after a writable open", k, dir+compactSuffix)
		}
	}
	t.Logf("%d kills within 3 x %v (seed %d), %d left a folder beside the index: content and consistency kept every time", kills, took, seed, leftovers)
	if got, _ := contentDigest(t, dir); got != want {
		t.Error("content changed")
	}
}
