package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// batch is a write transaction that commits itself before it grows past
// Badger's limit, but never in the middle of one file: reserve is called
// with everything a file needs before any of it is written, so each file
// and its images land in one transaction, which is what makes a crash
// harmless.
type batch struct {
	s      *Store
	txn    *badger.Txn
	count  int64 // entries in txn, as Badger counts them
	size   int64 // bytes in txn, as Badger counts them
	usedID bool  // the txn allocated image IDs: persist the counter with it
}

func (s *Store) newBatch() *batch {
	return &batch{s: s, txn: s.db.NewTransaction(true)}
}

// entryCost is what Badger charges an entry against the transaction limit
// (key, value, two meta bytes and ten bytes of version; see checkSize).
func entryCost(k, v []byte) int64 { return int64(len(k)+len(v)) + 12 }

// batchHeadroom is kept free in every transaction for the image counter.
const batchHeadroom = 64

// reserve makes room for n entries of sz bytes, committing first if they
// would not fit. It fails with ErrTooLarge if they cannot fit even in an
// empty transaction.
func (b *batch) reserve(n, sz int64) error {
	maxCount := b.s.maxBatchCount * 9 / 10
	maxSize := b.s.maxBatchSize * 9 / 10
	if n+2 > maxCount || sz+batchHeadroom > maxSize {
		return fmt.Errorf("%w: %d entries, %d bytes", ErrTooLarge, n, sz)
	}
	if b.count+n+2 > maxCount || b.size+sz+batchHeadroom > maxSize {
		if err := b.commit(); err != nil {
			return err
		}
	}
	b.count += n
	b.size += sz
	return nil
}

// apply writes ops, for which reserve has been called.
func (b *batch) apply(ops []op) error {
	for _, o := range ops {
		var err error
		if o.del {
			err = b.txn.Delete(o.key)
		} else {
			err = b.txn.Set(o.key, o.val)
		}
		if err != nil {
			return fmt.Errorf("write %q: %w", o.key, err)
		}
	}
	return nil
}

// commit commits the transaction (if it holds anything) and starts another.
func (b *batch) commit() error {
	if b.count == 0 {
		return nil
	}
	if b.usedID {
		b.s.mu.Lock()
		next := b.s.nextID
		b.s.mu.Unlock()
		if err := b.txn.Set(metaNextImage, binary.AppendUvarint(nil, next)); err != nil {
			return fmt.Errorf("write image counter: %w", err)
		}
	}
	err := b.txn.Commit()
	b.s.bumpGen()
	b.txn = b.s.db.NewTransaction(true)
	b.count, b.size, b.usedID = 0, 0, false
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (b *batch) discard() { b.txn.Discard() }

// op is one pending write or delete.
type op struct {
	key, val []byte
	del      bool
}

func opsCost(ops []op) (n, sz int64) {
	for _, o := range ops {
		n++
		sz += entryCost(o.key, o.val)
	}
	return n, sz
}

// imageDeletes appends the deletes of the given images: their keys are
// all in the file record, so nothing needs reading.
func imageDeletes(refs []imageRef, ops []op) []op {
	for _, ref := range refs {
		ops = append(ops, op{key: ref.key(), del: true})
	}
	return ops
}

// deleteFile removes a file and its images, atomically.
func (b *batch) deleteFile(ds uint32, path string, fr fileRecord) error {
	ops := imageDeletes(fr.Images, []op{{key: fileKey(ds, path), del: true}})
	n, sz := opsCost(ops)
	if err := b.reserve(n, sz); err != nil {
		return err
	}
	return b.apply(ops)
}

// Scan records one scan of a dataset. Files are written as they come (Put)
// or confirmed unchanged (Unchanged); Finish removes the files this scan
// did not see and records the counts.
//
// Its methods are safe for concurrent use (the walker may call Unchanged
// while the writer goroutine calls Put); they serialise on one mutex.
// Writes are batched: a file becomes visible to readers when its batch
// commits (every Options.BatchFiles files or Options.FlushInterval, and at
// Flush, Finish and Close).
//
// An interrupted scan (error, cancellation, crash) leaves a consistent
// index: every committed file is there with all its images, nothing else
// is, and the dataset is marked incomplete until a later scan finishes.
// Memory use does not grow with the dataset: seen files are marked with the
// scan's generation number in their record, and Finish sweeps by prefix.
type Scan struct {
	s       *Store
	name    string
	rec     datasetRecord
	started time.Time

	mu         sync.Mutex
	b          *batch
	files      int // files in the uncommitted batch
	lastCommit time.Time
	done       bool
	replaced   bool // some Put replaced older images: the value log has garbage
	// looked remembers what Unchanged found for paths it answered false,
	// so that the Put that follows need not read the record again (nil:
	// no record). Bounded: cleared when it reaches maxLooked.
	looked map[string]*fileRecord
	// fresh is set for the first scan of a new dataset: no file record
	// existed before it, so Unchanged answers false without a lookup, and
	// Put looks up only paths it may have written itself in this scan
	// (putPaths, a Bloom filter: a fixed megabyte, however many files).
	// Finish then needs no sweep either: the counts are kept as files are
	// put.
	fresh    bool
	putPaths *bloom
	counts   ScanResult // Files, Images, Failures of a fresh scan
	err      error      // sticky after a failed write: the scan is unusable
	res      ScanResult
}

// ScanResult summarises a finished scan.
type ScanResult struct {
	Files     int // files in the dataset now, failures included
	Images    int // images indexed for them
	Failures  int // files that could not be indexed
	Indexed   int // files written in this scan (new or changed, failures included)
	Unchanged int // files skipped because they had not changed
	Removed   int // files that disappeared since the last scan, removed with their images
}

// add counts (sign 1) or uncounts (sign -1) a file with n images.
func (r *ScanResult) add(f *File, n, sign int) {
	r.Files += sign
	r.Images += sign * n
	if f.Failure != "" {
		r.Failures += sign
	}
}

// bloom is a Bloom filter of strings with four probes: at a million
// entries in 2^23 bits it answers "maybe" for about 2% of absent ones.
type bloom struct {
	bits []uint64
	seed maphash.Seed
}

func newBloom(nbits int) *bloom {
	return &bloom{bits: make([]uint64, nbits/64), seed: maphash.MakeSeed()}
}

func (b *bloom) probes(s string) [4]uint64 {
	h := maphash.String(b.seed, s)
	h2 := h>>32 | h<<32 | 1
	n := uint64(len(b.bits) * 64)
	return [4]uint64{h % n, (h + h2) % n, (h + 2*h2) % n, (h + 3*h2) % n}
}

func (b *bloom) add(s string) {
	for _, p := range b.probes(s) {
		b.bits[p/64] |= 1 << (p % 64)
	}
}

func (b *bloom) mayContain(s string) bool {
	for _, p := range b.probes(s) {
		if b.bits[p/64]&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// BeginScan starts a scan of dataset name (created if new) whose files come
// from source (the folder or archive given, recorded for reports). It fails
// with ErrBusy if a scan is already active on this store and ErrReadOnly on
// a read-only store.
func (s *Store) BeginScan(name, source string) (*Scan, error) {
	if err := s.checkOpen(true); err != nil {
		return nil, err
	}
	if err := checkDatasetName(name); err != nil {
		return nil, err
	}
	sc := &Scan{s: s, name: name, started: time.Now()}
	s.mu.Lock()
	if s.scan != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("scan %q: %w", name, ErrBusy)
	}
	s.scan = sc
	s.mu.Unlock()
	err := s.update(func(txn *badger.Txn) error {
		rec, found, err := s.datasetRecord(txn, name)
		if err != nil {
			return err
		}
		if found && rec.State == stateForgetting {
			return fmt.Errorf("dataset %q is being forgotten: run forget again first", name)
		}
		if !found {
			// A new dataset has no file records: its first scan can skip
			// looking them up (see Scan.fresh).
			sc.fresh = true
			sc.putPaths = newBloom(1 << 23)
			s.mu.Lock()
			rec.ID = s.nextDS
			s.nextDS++
			next := s.nextDS
			s.mu.Unlock()
			if err := txn.Set(metaNextDataset, binary.AppendUvarint(nil, uint64(next))); err != nil {
				return err
			}
		}
		rec.Gen++
		rec.State = stateScanning
		rec.ScanStarted = sc.started
		rec.Source = source
		sc.rec = rec
		return txn.Set(datasetKey(name), encodeDataset(&rec))
	})
	if err != nil {
		s.mu.Lock()
		s.scan = nil
		s.mu.Unlock()
		return nil, fmt.Errorf("scan %q: %w", name, err)
	}
	sc.b = s.newBatch()
	sc.lastCommit = time.Now()
	return sc, nil
}

// Dataset is the name of the dataset being scanned.
func (sc *Scan) Dataset() string { return sc.name }

func (sc *Scan) usable() error {
	if sc.done {
		return ErrClosed
	}
	return sc.err
}

// fail makes err sticky: after a failed write the pending batch is lost, so
// the scan must not go on as if it were not.
func (sc *Scan) fail(err error) error {
	if sc.err == nil {
		sc.err = err
	}
	return err
}

// Unchanged reports whether the index holds path with this size and
// modification time from an earlier scan. If so the file counts as seen by
// this scan and must not be processed again; this holds for files that
// failed too, so they stay reported. If not, the caller processes the file
// and calls Put.
func (sc *Scan) Unchanged(path string, size int64, mtime time.Time) (bool, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return false, err
	}
	if sc.fresh && !sc.putPaths.mayContain(path) {
		sc.remember(path, nil)
		return false, nil
	}
	key := fileKey(sc.rec.ID, path)
	b, err := getBytes(sc.b.txn, key)
	if err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	if b == nil {
		sc.remember(path, nil)
		return false, nil
	}
	fr, err := decodeFile(b, sc.rec.ID)
	if err != nil {
		// A record we cannot read is as good as none: reprocess the file.
		sc.s.log.Warn("index: unreadable file record, reprocessing", "dataset", sc.name, "path", path, "err", err)
		return false, nil
	}
	if fr.Size != size || timeNanos(fr.ModTime) != timeNanos(mtime) {
		sc.remember(path, &fr)
		return false, nil
	}
	sc.res.Unchanged++
	if fr.Gen == sc.rec.Gen {
		return true, nil
	}
	fr.Gen = sc.rec.Gen
	val := encodeFile(&fr)
	if err := sc.b.reserve(1, entryCost(key, val)); err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	if err := sc.b.txn.Set(key, val); err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	return true, sc.maybeCommit()
}

// Put writes one file and all its images (one per frame), replacing
// whatever the index held for that path. A failed file has a Failure and
// usually no images. f.Dataset and the images' Dataset, Path and ID are
// set by Put. The file and its images are written atomically.
//
// Put fails with ErrTooLarge, leaving the scan usable, when the images do
// not fit one transaction (about 6,000 frames); the caller may then Put the
// file again as a failure.
func (sc *Scan) Put(f File, imgs []Image) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return err
	}
	if f.Path == "" {
		return fmt.Errorf("put: empty path in dataset %q", sc.name)
	}
	ds := sc.rec.ID
	key := fileKey(ds, f.Path)
	old, err := sc.previous(f.Path, key)
	if err != nil {
		return sc.fail(fmt.Errorf("put %s: %w", f.Path, err))
	}
	var ops []op
	if old != nil {
		ops = imageDeletes(old.Images, ops)
		sc.replaced = true
	}
	sc.s.mu.Lock()
	firstID := sc.s.nextID
	sc.s.nextID += uint64(len(imgs))
	sc.s.mu.Unlock()
	fr := fileRecord{File: f, Gen: sc.rec.Gen, Images: make([]imageRef, len(imgs))}
	fr.Dataset = ""
	for i := range imgs {
		im := imgs[i] // a copy: the caller's slice is not modified
		im.ID = firstID + uint64(i)
		im.Path = f.Path
		ref := refOf(&im, ds)
		fr.Images[i] = ref
		ops = append(ops, op{key: ref.key(), val: encodeImage(&im, ds)})
	}
	ops = append(ops, op{key: key, val: encodeFile(&fr)})
	n, sz := opsCost(ops)
	if err := sc.b.reserve(n, sz); err != nil {
		if errors.Is(err, ErrTooLarge) {
			sc.s.mu.Lock()
			if sc.s.nextID == firstID+uint64(len(imgs)) {
				sc.s.nextID = firstID
			}
			sc.s.mu.Unlock()
			return fmt.Errorf("put %s (%d frames): %w", f.Path, len(imgs), err)
		}
		return sc.fail(fmt.Errorf("put %s: %w", f.Path, err))
	}
	if len(imgs) > 0 {
		sc.b.usedID = true
	}
	if err := sc.b.apply(ops); err != nil {
		return sc.fail(fmt.Errorf("put %s: %w", f.Path, err))
	}
	if sc.fresh {
		sc.putPaths.add(f.Path)
		sc.counts.add(&fr.File, len(fr.Images), 1)
		if old != nil {
			sc.counts.add(&old.File, len(old.Images), -1)
		}
	}
	sc.res.Indexed++
	sc.files++
	return sc.maybeCommit()
}

// maxLooked bounds Scan.looked: the walker runs at most a few thousand
// files ahead of the writer.
const maxLooked = 8192

func (sc *Scan) remember(path string, fr *fileRecord) {
	if sc.looked == nil || len(sc.looked) >= maxLooked {
		sc.looked = make(map[string]*fileRecord)
	}
	sc.looked[path] = fr
}

// previous returns the record path had before this Put, from Unchanged's
// answer if there was one.
func (sc *Scan) previous(path string, key []byte) (*fileRecord, error) {
	if fr, ok := sc.looked[path]; ok {
		delete(sc.looked, path)
		return fr, nil
	}
	if sc.fresh && !sc.putPaths.mayContain(path) {
		return nil, nil
	}
	b, err := getBytes(sc.b.txn, key)
	if err != nil || b == nil {
		return nil, err
	}
	fr, err := decodeFile(b, sc.rec.ID)
	if err != nil {
		sc.s.log.Warn("index: unreadable file record, overwriting", "dataset", sc.name, "path", path, "err", err)
		return nil, nil
	}
	return &fr, nil
}

func (sc *Scan) maybeCommit() error {
	if sc.files >= sc.s.opts.BatchFiles || time.Since(sc.lastCommit) >= sc.s.opts.FlushInterval {
		return sc.commit()
	}
	return nil
}

func (sc *Scan) commit() error {
	if err := sc.b.commit(); err != nil {
		return sc.fail(err)
	}
	sc.files = 0
	sc.lastCommit = time.Now()
	return nil
}

// Flush commits the pending batch, making its files visible to readers.
func (sc *Scan) Flush() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return err
	}
	return sc.commit()
}

// Finish commits, removes the records of files this scan did not see
// (files that disappeared), and records the dataset's counts and the time.
// The scan is over afterwards, whatever the result.
func (sc *Scan) Finish() (ScanResult, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return ScanResult{}, err
	}
	defer sc.end()
	if err := sc.commit(); err != nil {
		return ScanResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	res := sc.res
	var err error
	if sc.fresh {
		// Nothing predates this scan, so nothing can have disappeared.
		res.Files, res.Images, res.Failures = sc.counts.Files, sc.counts.Images, sc.counts.Failures
	} else {
		err = sc.s.eachFile(sc.rec.ID, func(path string, fr fileRecord) error {
			if fr.Gen != sc.rec.Gen {
				res.Removed++
				return sc.b.deleteFile(sc.rec.ID, path, fr)
			}
			res.add(&fr.File, len(fr.Images), 1)
			return nil
		})
	}
	if err == nil {
		err = sc.b.commit()
	}
	if err != nil {
		return ScanResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	if res.Removed > 0 || sc.replaced {
		sc.s.collectGarbage()
	}
	rec := sc.rec
	rec.State = stateComplete
	rec.Files, rec.Images, rec.Failures = res.Files, res.Images, res.Failures
	rec.LastScan = time.Now()
	err = sc.s.update(func(txn *badger.Txn) error {
		// The record may have changed since BeginScan only through this
		// scan, so overwriting it is safe.
		return txn.Set(datasetKey(sc.name), encodeDataset(&rec))
	})
	if err != nil {
		return ScanResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	return res, nil
}

// Close ends the scan without finishing it: what was Put is committed and
// stays, files not seen are kept, and the dataset stays marked incomplete
// until a later scan finishes. Use it when a scan is cancelled. Closing a
// finished scan does nothing.
func (sc *Scan) Close() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.done {
		return nil
	}
	defer sc.end()
	if sc.err != nil {
		return nil // the error was already reported; the batch is lost
	}
	if err := sc.commit(); err != nil {
		return fmt.Errorf("close scan of %q: %w", sc.name, err)
	}
	return nil
}

// end releases the store's scan slot. Called with sc.mu held.
func (sc *Scan) end() {
	sc.done = true
	sc.b.discard()
	sc.s.mu.Lock()
	if sc.s.scan == sc {
		sc.s.scan = nil
	}
	sc.s.mu.Unlock()
}
