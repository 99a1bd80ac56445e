package index

import (
	"fmt"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// TestCheckFindsDamage damages a consistent index one way at a time, with
// Badger directly, and checks that Check names the damage.
func TestCheckFindsDamage(t *testing.T) {
	// Seed 2 has a min-max fingerprint (fakeMinMax), seed 3 none.
	withMM, imgs := fakeFile("a/2.dcm", 2, 1)
	plain, imgs3 := fakeFile("b/3.dcm", 3, 1)
	// mmRef is the image key reference of withMM's frame, from its file
	// record.
	mmRef := func(s *Store) fileImage {
		t.Helper()
		rec, err := s.lookupDataset("d")
		if err != nil {
			t.Fatal(err)
		}
		var fr fileRecord
		err = s.db.View(func(txn *badger.Txn) error {
			v, err := getBytes(txn, fileKey(rec.ID, withMM.Path))
			if err != nil {
				return err
			}
			fr, err = decodeFile(v, rec.ID)
			return err
		})
		if err != nil || len(fr.Images) != 1 || !fr.Images[0].hasMM {
			t.Fatalf("file record of %s: %+v, %v", withMM.Path, fr, err)
		}
		return fr.Images[0]
	}
	for _, tc := range []struct {
		name   string
		damage func(r fileImage, txn *badger.Txn) error
		want   string
	}{
		{"min-max key deleted", func(r fileImage, txn *badger.Txn) error {
			return txn.Delete(r.mmKey())
		}, "has a min-max fingerprint but no min-max key"},
		{"min-max key with another pHash", func(r fileImage, txn *badger.Txn) error {
			if err := txn.Delete(r.mmKey()); err != nil {
				return err
			}
			r.mm ^= 1
			return txn.Set(r.mmKey(), nil)
		}, "min-max key of image"},
		{"stray min-max key", func(r fileImage, txn *badger.Txn) error {
			r.id, r.mm = 999, 7
			return txn.Set(r.mmKey(), nil)
		}, "min-max key of image 999, which has no min-max fingerprint"},
		{"stray preview key", func(r fileImage, txn *badger.Txn) error {
			return txn.Set(previewKey(999), []byte("jpeg"))
		}, "preview of image 999, which does not exist"},
		{"image key deleted", func(r fileImage, txn *badger.Txn) error {
			return txn.Delete(r.key())
		}, "which does not exist"},
		{"file record deleted", func(r fileImage, txn *badger.Txn) error {
			return txn.Delete(fileKey(r.ds, withMM.Path))
		}, "has no file record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, Options{})
			indexFiles(t, s, "d", map[string][]Image{withMM.Path: imgs, plain.Path: imgs3})
			mustCheck(t, s)
			r := mmRef(s)
			if err := s.update(func(txn *badger.Txn) error { return tc.damage(r, txn) }); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Check(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(rep.Problems, "\n")
			if rep.OK() || !strings.Contains(got, tc.want) || rep.ProblemsFound != len(rep.Problems) {
				t.Errorf("Check found %d problems:\n%s\nwant one containing %q", rep.ProblemsFound, got, tc.want)
			}
		})
	}
}

// TestCheckCountsBeyondTheList checks that Check counts the problems it
// does not list.
func TestCheckCountsBeyondTheList(t *testing.T) {
	s := openStore(t, Options{})
	files := map[string][]Image{}
	for i := range MaxCheckProblems + 30 {
		_, imgs := fakeFile(fmt.Sprintf("f/%d.dcm", i), uint64(2*i+1), 1)
		files[fmt.Sprintf("f/%d.dcm", i)] = imgs
	}
	indexFiles(t, s, "d", files)
	rec, err := s.lookupDataset("d")
	if err != nil {
		t.Fatal(err)
	}
	// Delete every file record: each image is then an orphan.
	err = s.update(func(txn *badger.Txn) error {
		for p := range files {
			if err := txn.Delete(fileKey(rec.ID, p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != MaxCheckProblems || rep.ProblemsFound < MaxCheckProblems+30 {
		t.Errorf("Check listed %d problems and counted %d, want %d listed and at least %d counted",
			len(rep.Problems), rep.ProblemsFound, MaxCheckProblems, MaxCheckProblems+30)
	}
}
