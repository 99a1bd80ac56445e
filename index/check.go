package index

import (
	"context"
	"fmt"
	"maps"
	"slices"

	badger "github.com/dgraph-io/badger/v4"
)

// CheckReport is the result of Check.
type CheckReport struct {
	Datasets int
	Files    int
	Images   int
	// Problems lists every inconsistency found, one line each; empty for a
	// consistent index. At most MaxCheckProblems are kept.
	Problems []string
	// ProblemsFound counts the inconsistencies found, those not kept
	// included.
	ProblemsFound int
}

// MaxCheckProblems bounds CheckReport.Problems.
const MaxCheckProblems = 100

// OK reports whether the index is consistent.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) problem(format string, args ...any) {
	r.ProblemsFound++
	if len(r.Problems) < MaxCheckProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Check verifies the index's invariants: every key parses and every value
// decodes; every image key matches its record and belongs to exactly one
// file record of a known dataset, which lists that very key; every key a
// file lists exists; the image counter is above every ID; finished
// datasets' counts match their records. It reads everything and holds a map
// of all image IDs (about 60 bytes per image): a tool for tests and for
// `copycat check`, not for every open.
func (s *Store) Check(ctx context.Context) (CheckReport, error) {
	var rep CheckReport
	if err := s.checkOpen(false); err != nil {
		return rep, err
	}
	recs, err := s.datasetRecords()
	if err != nil {
		return rep, err
	}
	dsByID := map[uint32]namedDataset{}
	for _, r := range recs {
		if other, dup := dsByID[r.rec.ID]; dup {
			rep.problem("datasets %q and %q share ID %d", other.name, r.name, r.rec.ID)
		}
		dsByID[r.rec.ID] = r
	}
	rep.Datasets = len(recs)
	type owner struct {
		path string
		ref  fileImage
	}
	owners := map[uint64]owner{}
	type counts struct{ files, images, failures int }
	perDS := map[uint32]*counts{}
	var nextID uint64
	err = s.db.View(func(txn *badger.Txn) error {
		if nextID, err = getUint(txn, metaNextImage); err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			item := it.Item()
			k := item.KeyCopy(nil)
			if err := parseKey(k); err != nil {
				rep.problem("%v", err)
				continue
			}
			if k[0] == tagDoc {
				if ds, path, _ := parseDocKey(k); dsByID[ds].name == "" {
					rep.problem("document %q of unknown dataset %d", path, ds)
				}
			}
			if k[0] != tagFile {
				continue
			}
			ds, path, _ := parseFileKey(k)
			if _, ok := dsByID[ds]; !ok {
				rep.problem("file %q of unknown dataset %d", path, ds)
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			fr, err := decodeFile(v, ds)
			if err != nil {
				rep.problem("file %q: %v", path, err)
				continue
			}
			rep.Files++
			c := perDS[ds]
			if c == nil {
				c = &counts{}
				perDS[ds] = c
			}
			c.files++
			c.images += len(fr.Images)
			if fr.Failure != "" {
				c.failures++
			}
			for _, ref := range fr.Images {
				if o, dup := owners[ref.id]; dup {
					rep.problem("image %d listed by files %q and %q", ref.id, o.path, path)
				}
				owners[ref.id] = owner{path, ref}
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	// Images, in a second pass: their owners are known now. Each key must
	// be the one its record implies, and the one its file lists.
	seen := map[uint64]bool{}
	mmWanted := map[uint64]uint64{}
	var maxID uint64
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagImage}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			ref, err := parseImageKey(item.Key())
			if err != nil {
				continue // reported above
			}
			maxID = max(maxID, ref.id)
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			im, ds, err := decodeImage(v)
			if err != nil {
				rep.problem("image %d: %v", ref.id, err)
				continue
			}
			im.ID = ref.id
			rep.Images++
			if seen[ref.id] {
				rep.problem("image %d has two keys", ref.id)
			}
			seen[ref.id] = true
			want := fileImageOf(&im, ds)
			if want.imageRef != ref {
				rep.problem("image %d: key %+v does not match its record (%+v)", ref.id, ref, want)
			}
			o, ok := owners[ref.id]
			switch {
			case !ok:
				rep.problem("image %d (%q frame %d) has no file record", ref.id, im.Path, im.Frame)
			case o.ref != want || o.path != im.Path:
				rep.problem("image %d is %q %+v, its file record says %q %+v", ref.id, im.Path, want, o.path, o.ref)
			}
			if want.hasMM {
				mmWanted[ref.id] = want.mm
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	// Min-max keys: one for each image whose record has a min-max
	// fingerprint, with its pHash, and no other.
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagMinMax}, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, ds, mm, err := parseMinMaxKey(it.Item().Key())
			if err != nil {
				continue // reported above
			}
			want, ok := mmWanted[id]
			switch {
			case !ok:
				rep.problem("min-max key of image %d, which has no min-max fingerprint", id)
			case want != mm || owners[id].ref.ds != ds:
				rep.problem("min-max key of image %d says dataset %d pHash %016x, its record %d %016x", id, ds, mm, owners[id].ref.ds, want)
			}
			delete(mmWanted, id)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	// Preview keys: only for images that exist.
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagPreview}, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, err := parsePreviewKey(it.Item().Key())
			if err != nil {
				continue // reported above
			}
			if !seen[id] {
				rep.problem("preview of image %d, which does not exist", id)
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("check: %w", err)
	}
	for _, id := range slices.Sorted(maps.Keys(mmWanted)) {
		rep.problem("image %d has a min-max fingerprint but no min-max key", id)
	}
	missing := make([]uint64, 0)
	for id := range owners {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	for _, id := range missing {
		rep.problem("file %q lists image %d, which does not exist", owners[id].path, id)
	}
	if maxID >= nextID {
		rep.problem("image counter %d is not above the largest image ID %d", nextID, maxID)
	}
	for id, r := range dsByID {
		c := perDS[id]
		if c == nil {
			c = &counts{}
		}
		if r.rec.State == stateComplete && (c.files != r.rec.Files || c.images != r.rec.Images || c.failures != r.rec.Failures) {
			rep.problem("dataset %q records %d files, %d images, %d failures; the index holds %d, %d, %d",
				r.name, r.rec.Files, r.rec.Images, r.rec.Failures, c.files, c.images, c.failures)
		}
	}
	return rep, nil
}
