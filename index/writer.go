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
//
// Commits are pipelined: commit hands the transaction to Badger and returns
// while Badger's single write goroutine logs and applies it, so the caller
// encodes the next batch on the other core meanwhile, and Badger finds the
// next batch waiting when it is done with one. At most two batches are in
// Badger's hands: commit sends the open one, then waits until the one
// before is applied.
//
// Badger makes a new transaction wait until every commit sent before it is
// applied. So that this wait does not hold up sending, transactions are
// begun ahead by a goroutine (begin), each just after the previous one was
// handed over, and so after every batch but the latest was sent: the
// snapshot of the open transaction holds every batch except, perhaps, the
// one in flight. The file records of that batch and of the open one are
// kept in memory (files), and lookup consults them first.
type batch struct {
	s      *Store
	txn    *badger.Txn
	count  int64 // entries in txn, as Badger counts them
	size   int64 // bytes in txn, as Badger counts them
	usedID bool  // the txn allocated image IDs: persist the counter with it
	// files holds the file records written in txn by path (nil: deleted).
	files map[string]*fileRecord
	// flying is the latest commit sent (nil before the first). Its files
	// stay until the next commit, even once it is applied: the open
	// transaction's snapshot may still lack it.
	flying *flight
	// txns receives the transactions begin begins; stop ends begin, which
	// closes stopped.
	txns    chan *badger.Txn
	stop    chan struct{}
	stopped chan struct{}
}

// flight is a commit sent to Badger.
type flight struct {
	done    chan struct{} // closed when Badger has applied it (or failed)
	err     error         // set before done is closed
	checked bool          // wait has returned err once
	files   map[string]*fileRecord
}

// wait waits until f is applied and returns its error, once.
func (f *flight) wait() error {
	if f == nil || f.checked {
		return nil
	}
	<-f.done
	f.checked = true
	if f.err != nil {
		return fmt.Errorf("commit: %w", f.err)
	}
	return nil
}

// newBatch starts a batch; discard ends it.
func (s *Store) newBatch() *batch {
	b := &batch{s: s, txns: make(chan *badger.Txn), stop: make(chan struct{}), stopped: make(chan struct{})}
	go b.begin()
	b.txn = <-b.txns
	return b
}

// begin begins write transactions one after the other and hands them over
// until stopped. The channel is unbuffered, so each transaction is begun
// after the previous one was taken.
func (b *batch) begin() {
	defer close(b.stopped)
	for {
		txn := b.s.db.NewTransaction(true)
		select {
		case b.txns <- txn:
		case <-b.stop:
			txn.Discard()
			return
		}
	}
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

// note remembers the file record just written for path (nil: deleted), so
// that lookup finds it before its commit completes.
func (b *batch) note(path string, fr *fileRecord) {
	if b.files == nil {
		b.files = make(map[string]*fileRecord, b.s.opts.BatchFiles)
	}
	b.files[path] = fr
}

// lookup returns the file record of path in dataset ds as this batch sees
// it: written in the open transaction, in the commit in flight, or
// committed before (nil if none). The record is the caller's to modify,
// except for its Images.
func (b *batch) lookup(ds uint32, path string) (*fileRecord, error) {
	fr, ok := b.files[path]
	if !ok && b.flying != nil {
		fr, ok = b.flying.files[path]
	}
	if ok {
		if fr == nil {
			return nil, nil
		}
		c := *fr
		return &c, nil
	}
	v, err := getBytes(b.txn, fileKey(ds, path))
	if err != nil || v == nil {
		return nil, err
	}
	r, err := decodeFile(v, ds)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnreadable, err)
	}
	return &r, nil
}

// commit sends the transaction (if it holds anything) to Badger and takes
// the next, without waiting for this one to be applied; it waits until the
// commit before is, and returns that one's error.
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
	f := &flight{done: make(chan struct{}), files: b.files}
	s := b.s
	b.txn.CommitWith(func(err error) {
		f.err = err
		s.bumpGen()
		close(f.done)
	})
	// The next transaction was begun after the previous commit was sent,
	// so taking it waits until that commit is applied (and, if begin was
	// late, this one too): then its snapshot lacks at most f.
	b.txn = <-b.txns
	prev := b.flying
	b.flying, b.files = f, nil
	b.count, b.size, b.usedID = 0, 0, false
	return prev.wait()
}

// sync waits until the latest commit is applied and returns its error.
func (b *batch) sync() error { return b.flying.wait() }

// flush commits and waits until everything written is applied.
func (b *batch) flush() error {
	if err := b.commit(); err != nil {
		return err
	}
	return b.sync()
}

// discard waits for the commit in flight (its outcome is the caller's to
// have checked), drops the open transaction and stops begin.
func (b *batch) discard() {
	_ = b.sync()
	close(b.stop)
	<-b.stopped
	b.txn.Discard()
}

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

// lacksCanonical reports whether the file was indexed before image keys
// carried the canonical pHash (schema version 3): it is read again, so
// that its rotated and mirrored copies can be found.
func lacksCanonical(fr *fileRecord) bool { return fr.beforeCanonical && len(fr.Images) > 0 }

// lacksWindows reports whether the file is a NIfTI volume indexed before
// image records kept the raw range of each window (record version 6): it
// is read again, so that lineage can name the window of its slice dumps.
// Its first image record says (one read per volume; volumes are few).
func (b *batch) lacksWindows(fr *fileRecord) bool {
	if fr.Format != "nifti" || len(fr.Images) == 0 {
		return false
	}
	v, err := getBytes(b.txn, fr.Images[0].key())
	if err != nil || len(v) == 0 || v[0] >= imageRecordV6 {
		return false
	}
	im, _, err := decodeImage(v)
	return err == nil && im.Volume != nil
}

// imageDeletes appends the deletes of the given images: their keys are
// all in the file record, so nothing needs reading.
func imageDeletes(refs []fileImage, ops []op) []op {
	for _, ref := range refs {
		ops = append(ops, op{key: ref.key(), del: true})
		if ref.hasMM {
			ops = append(ops, op{key: ref.mmKey(), del: true})
		}
		// The file record does not say whether the image has a preview:
		// deleting a key that is not there costs a small tombstone.
		ops = append(ops, op{key: previewKey(ref.id), del: true})
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
	if err := b.apply(ops); err != nil {
		return err
	}
	b.note(path, nil)
	return nil
}

// Writer records one scan of a dataset: the index's side of it, so named
// to keep it apart from the scan package that drives it. Files are written as they come (Put)
// or confirmed unchanged (Unchanged); Finish removes the files this scan
// did not see and records the counts.
//
// Its methods are safe for concurrent use (the walker may call Unchanged
// while the writer goroutine calls Put); they serialise on one mutex.
// Writes are batched: a file becomes visible to readers when its batch
// commits (every Options.BatchFiles files or Options.FlushInterval, and at
// Flush, Finish and Close). A batch commits in the background while the
// next one fills; Flush, Finish and Close wait for it, so after they return
// everything Put before is applied.
//
// An interrupted scan (error, cancellation, crash) leaves a consistent
// index: every committed file is there with all its images, nothing else
// is, and the dataset is marked incomplete until a later scan finishes.
// Memory use does not grow with the dataset: seen files are marked with the
// scan's generation number in their record, and Finish sweeps by prefix.
type Writer struct {
	s       *Store
	name    string
	rec     datasetRecord
	started time.Time

	mu         sync.Mutex
	b          *batch
	files      int // files in the uncommitted batch
	lastCommit time.Time
	done       bool
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
	// merge is set by BeginMerge: Finish keeps the files this write did
	// not see, and marks the dataset complete only when mergeComplete.
	merge, mergeComplete bool
	counts               WriteResult // Files, Images, Failures of a fresh scan
	ops                  []op        // Put's scratch
	err                  error       // sticky after a failed write: the scan is unusable
	res                  WriteResult
}

// WriteResult summarises a finished scan.
type WriteResult struct {
	Files     int // files in the dataset now, failures included
	Images    int // images indexed for them
	Failures  int // files that could not be indexed
	Indexed   int // files written in this scan (new or changed, failures included)
	Unchanged int // files skipped because they had not changed
	Removed   int // files that disappeared since the last scan, removed with their images
}

// add counts (sign 1) or uncounts (sign -1) a file with n images.
func (r *WriteResult) add(f *File, n, sign int) {
	r.Files += sign
	r.Images += sign * n
	if f.Failure != "" {
		r.Failures += sign
	}
}

// bloom is a blocked Bloom filter of strings: each string sets four bits
// of one 512-bit block (a cache line), so a test or an insert costs one
// cache miss instead of four. At a million entries in 2^23 bits it answers
// "maybe" for about 2.5% of absent ones.
type bloom struct {
	bits []uint64 // len is a multiple of bloomBlock
	seed maphash.Seed
}

const bloomBlock = 8 // uint64 words per block

func newBloom(nbits int) *bloom {
	return &bloom{bits: make([]uint64, max(nbits/64, bloomBlock)/bloomBlock*bloomBlock), seed: maphash.MakeSeed()}
}

// block returns the string's block and its four bit numbers (0..511),
// taken from disjoint bits of one 64-bit hash.
func (b *bloom) block(s string) ([]uint64, uint64) {
	h := maphash.String(b.seed, s)
	i := (h >> 36) % uint64(len(b.bits)/bloomBlock) * bloomBlock
	return b.bits[i : i+bloomBlock : i+bloomBlock], h
}

func (b *bloom) add(s string) {
	blk, h := b.block(s)
	for range 4 {
		blk[h>>6&7] |= 1 << (h & 63)
		h >>= 9
	}
}

func (b *bloom) mayContain(s string) bool {
	blk, h := b.block(s)
	for range 4 {
		if blk[h>>6&7]&(1<<(h&63)) == 0 {
			return false
		}
		h >>= 9
	}
	return true
}

// BeginWrite starts a scan of dataset name (created if new) whose files come
// from source (the folder or archive given, recorded for reports). It fails
// with ErrBusy if a scan is already active on this store and ErrReadOnly on
// a read-only store.
func (s *Store) BeginWrite(name, source string) (*Writer, error) {
	if err := s.checkOpen(true); err != nil {
		return nil, err
	}
	if err := checkDatasetName(name); err != nil {
		return nil, err
	}
	sc := &Writer{s: s, name: name, started: time.Now()}
	s.mu.Lock()
	if s.writer != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("scan %q: %w", name, ErrBusy)
	}
	s.writer = sc
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
		s.writer = nil
		s.mu.Unlock()
		return nil, fmt.Errorf("scan %q: %w", name, err)
	}
	sc.b = s.newBatch()
	sc.lastCommit = time.Now()
	return sc, nil
}

// Dataset is the name of the dataset being scanned.
func (sc *Writer) Dataset() string { return sc.name }

func (sc *Writer) usable() error {
	if sc.done {
		return ErrClosed
	}
	return sc.err
}

// fail makes err sticky: after a failed write the pending batch is lost, so
// the scan must not go on as if it were not.
func (sc *Writer) fail(err error) error {
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
func (sc *Writer) Unchanged(path string, size int64, mtime time.Time) (bool, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return false, err
	}
	if sc.fresh && !sc.putPaths.mayContain(path) {
		// Put will find the same answer in the filter: nothing to remember.
		return false, nil
	}
	fr, err := sc.b.lookup(sc.rec.ID, path)
	if errors.Is(err, errUnreadable) {
		// A record we cannot read is as good as none: reprocess the file.
		sc.s.log.Warn("index: unreadable file record, reprocessing", "dataset", sc.name, "path", path, "err", err)
		return false, nil
	}
	if err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	if fr == nil {
		sc.remember(path, nil)
		return false, nil
	}
	if fr.Size != size || timeNanos(fr.ModTime) != timeNanos(mtime) || lacksCanonical(fr) || sc.b.lacksWindows(fr) {
		sc.remember(path, fr)
		return false, nil
	}
	sc.res.Unchanged++
	if fr.Gen == sc.rec.Gen {
		return true, nil
	}
	fr.Gen = sc.rec.Gen
	key := fileKey(sc.rec.ID, path)
	val := encodeFile(fr)
	if err := sc.b.reserve(1, entryCost(key, val)); err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	if err := sc.b.txn.Set(key, val); err != nil {
		return false, sc.fail(fmt.Errorf("unchanged %s: %w", path, err))
	}
	sc.b.note(path, fr)
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
func (sc *Writer) Put(f File, imgs []Image) error {
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
	old, err := sc.previous(f.Path)
	if err != nil {
		return sc.fail(fmt.Errorf("put %s: %w", f.Path, err))
	}
	// Badger keeps the keys and values, not the slice: reuse it.
	ops := sc.ops[:0]
	defer func() { sc.ops = ops[:0] }()
	if old != nil {
		ops = imageDeletes(old.Images, ops)
	}
	sc.s.mu.Lock()
	firstID := sc.s.nextID
	sc.s.nextID += uint64(len(imgs))
	sc.s.mu.Unlock()
	fr := &fileRecord{File: f, Gen: sc.rec.Gen, Images: make([]fileImage, len(imgs))}
	fr.Dataset = ""
	for i := range imgs {
		im := imgs[i] // a copy: the caller's slice is not modified
		im.ID = firstID + uint64(i)
		im.Path = f.Path
		ref := fileImageOf(&im, ds)
		fr.Images[i] = ref
		ops = append(ops, op{key: ref.key(), val: encodeImage(&im, ds)})
		if ref.hasMM {
			ops = append(ops, op{key: ref.mmKey(), val: []byte{}})
		}
		if len(im.Preview) > 0 {
			ops = append(ops, op{key: previewKey(im.ID), val: im.Preview})
		}
	}
	ops = append(ops, op{key: key, val: encodeFile(fr)})
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
	sc.b.note(f.Path, fr)
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

func (sc *Writer) remember(path string, fr *fileRecord) {
	if sc.looked == nil || len(sc.looked) >= maxLooked {
		sc.looked = make(map[string]*fileRecord)
	}
	sc.looked[path] = fr
}

// previous returns the record path had before this Put, from Unchanged's
// answer if there was one.
func (sc *Writer) previous(path string) (*fileRecord, error) {
	if fr, ok := sc.looked[path]; ok {
		delete(sc.looked, path)
		return fr, nil
	}
	if sc.fresh && !sc.putPaths.mayContain(path) {
		return nil, nil
	}
	fr, err := sc.b.lookup(sc.rec.ID, path)
	if errors.Is(err, errUnreadable) {
		sc.s.log.Warn("index: unreadable file record, overwriting", "dataset", sc.name, "path", path, "err", err)
		return nil, nil
	}
	return fr, err
}

func (sc *Writer) maybeCommit() error {
	if sc.files >= sc.s.opts.BatchFiles || time.Since(sc.lastCommit) >= sc.s.opts.FlushInterval {
		return sc.commit()
	}
	return nil
}

// commit sends the pending batch to Badger without waiting for it.
func (sc *Writer) commit() error {
	if err := sc.b.commit(); err != nil {
		return sc.fail(err)
	}
	sc.files = 0
	sc.lastCommit = time.Now()
	return nil
}

// flush commits the pending batch and waits until every batch is applied.
func (sc *Writer) flush() error {
	if err := sc.commit(); err != nil {
		return err
	}
	if err := sc.b.sync(); err != nil {
		return sc.fail(err)
	}
	return nil
}

// Flush commits the pending batch and waits for it, making its files
// visible to readers.
func (sc *Writer) Flush() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return err
	}
	return sc.flush()
}

// Finish commits, removes the records of files this scan did not see
// (files that disappeared), and records the dataset's counts and the time.
// The scan is over afterwards, whatever the result.
func (sc *Writer) Finish() (WriteResult, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return WriteResult{}, err
	}
	defer sc.end()
	if err := sc.flush(); err != nil {
		return WriteResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	res := sc.res
	var err error
	if sc.fresh {
		// Nothing predates this scan, so nothing can have disappeared.
		res.Files, res.Images, res.Failures = sc.counts.Files, sc.counts.Images, sc.counts.Failures
	} else {
		err = sc.s.eachFile(sc.rec.ID, func(path string, fr fileRecord) error {
			if fr.Gen != sc.rec.Gen && !sc.merge {
				res.Removed++
				return sc.b.deleteFile(sc.rec.ID, path, fr)
			}
			res.add(&fr.File, len(fr.Images), 1)
			return nil
		})
	}
	if err == nil {
		err = sc.b.flush()
	}
	if err != nil {
		return WriteResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	// No value-log GC here: a scan killed after Badger's GC had rewritten
	// a log file sometimes came back with image records that had been
	// deleted (the SIGKILL test, about 1 run in 8 with GC after rescans;
	// none in 18 without), a known class of Badger bug (dgraph-io/badger
	// #2143, #2286). Forget does none either (see forget): space left by
	// replaced and deleted records is not reclaimed.
	rec := sc.rec
	rec.State = stateComplete
	if sc.merge && !sc.mergeComplete {
		rec.State = stateScanning // what was merged is not a whole dataset
	}
	rec.Files, rec.Images, rec.Failures = res.Files, res.Images, res.Failures
	rec.LastScan = time.Now()
	err = sc.s.update(func(txn *badger.Txn) error {
		// The record may have changed since BeginWrite only through this
		// scan, so overwriting it is safe.
		return txn.Set(datasetKey(sc.name), encodeDataset(&rec))
	})
	if err != nil {
		return WriteResult{}, fmt.Errorf("finish scan of %q: %w", sc.name, err)
	}
	return res, nil
}

// Close ends the scan without finishing it: what was Put is committed and
// stays, files not seen are kept, and the dataset stays marked incomplete
// until a later scan finishes. Use it when a scan is cancelled. Closing a
// finished scan does nothing.
func (sc *Writer) Close() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.done {
		return nil
	}
	defer sc.end()
	if sc.err != nil {
		return nil // the error was already reported; the batch is lost
	}
	if err := sc.flush(); err != nil {
		return fmt.Errorf("close scan of %q: %w", sc.name, err)
	}
	return nil
}

// end releases the store's scan slot. Called with sc.mu held.
func (sc *Writer) end() {
	sc.done = true
	sc.b.discard()
	sc.s.mu.Lock()
	if sc.s.writer == sc {
		sc.s.writer = nil
	}
	sc.s.mu.Unlock()
}
