package index

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// writeDocs runs a scan of dataset name that sets docs and keeps keep.
func writeDocs(tb testing.TB, s *Store, name string, docs []Document, keep []string) error {
	tb.Helper()
	sc, err := s.BeginWrite(name, "/data/"+name)
	if err != nil {
		tb.Fatal(err)
	}
	f, imgs := fakeFile("a.png", 1, 1)
	if err := sc.Put(f, imgs); err != nil {
		tb.Fatal(err)
	}
	err = sc.SetDocuments(docs, keep)
	if _, ferr := sc.Finish(); ferr != nil {
		tb.Fatal(ferr)
	}
	return err
}

func docPaths(tb testing.TB, s *Store, name string) (string, bool) {
	tb.Helper()
	docs, recorded, err := s.Documents(tb.Context(), name)
	if err != nil {
		tb.Fatal(err)
	}
	var parts []string
	for _, d := range docs {
		parts = append(parts, d.Path)
	}
	return strings.Join(parts, ","), recorded
}

func TestDocuments(t *testing.T) {
	s := openStore(t, Options{})
	// A dataset scanned without documents being recorded (an older index).
	scanFiles(t, s, "old", map[string]uint64{"x.png": 5}, func(uint64) int { return 1 })
	if got, recorded := docPaths(t, s, "old"); got != "" || recorded {
		t.Errorf("old dataset: documents %q recorded %v, want none, not recorded", got, recorded)
	}

	big := bytes.Repeat([]byte("x"), MaxDocumentBytes+10)
	first := []Document{
		{Path: "LICENSE", Size: 11, Data: []byte("MIT License")},
		{Path: "README.md", Size: int64(len(big)), Data: big},
		{Path: "sub/README.md", Size: 3, Data: []byte("sub")},
	}
	if err := writeDocs(t, s, "ds", first, nil); err != nil {
		t.Fatal(err)
	}
	docs, recorded, err := s.Documents(t.Context(), "ds")
	if err != nil || !recorded || len(docs) != 3 {
		t.Fatalf("Documents = %d docs, recorded %v, %v; want 3, true", len(docs), recorded, err)
	}
	if string(docs[0].Data) != "MIT License" || len(docs[1].Data) != MaxDocumentBytes || docs[1].Size != int64(len(big)) {
		t.Errorf("got %q, %d bytes of %d; want the licence and the README's first MiB", docs[0].Data, len(docs[1].Data), docs[1].Size)
	}

	// A rescan: LICENSE unchanged (kept), README rewritten, sub/README gone.
	if err := writeDocs(t, s, "ds", []Document{{Path: "README.md", Size: 2, Data: []byte("hi")}}, []string{"LICENSE"}); err != nil {
		t.Fatal(err)
	}
	if got, recorded := docPaths(t, s, "ds"); got != "LICENSE,README.md" || !recorded {
		t.Errorf("after rescan: %q recorded %v, want LICENSE,README.md", got, recorded)
	}
	// A dataset with no documentation is recorded as having none.
	if err := writeDocs(t, s, "bare", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, recorded := docPaths(t, s, "bare"); got != "" || !recorded {
		t.Errorf("bare: %q recorded %v, want none, recorded", got, recorded)
	}
	mustCheck(t, s)

	tooMany := make([]Document, MaxDocuments+1)
	for i := range tooMany {
		tooMany[i] = Document{Path: strings.Repeat("d", i+1), Data: []byte("x")}
	}
	if err := writeDocs(t, s, "many", tooMany, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d documents: err %v, want ErrTooLarge", len(tooMany), err)
	}

	if err := s.Forget(t.Context(), "ds"); err != nil {
		t.Fatal(err)
	}
	// Only bare's marker is left: old never had one, many's write failed.
	var left []string
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{tagDoc}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			_, p, _ := parseDocKey(it.Item().Key())
			left = append(left, p)
		}
		return nil
	})
	if err != nil || len(left) != 1 || left[0] != "" {
		t.Errorf("document keys after Forget: %q, %v; want one marker", left, err)
	}
	mustCheck(t, s)
}

func TestDocumentRecords(t *testing.T) {
	tests := []Document{
		{Size: 0, Data: nil},
		{Size: 5, Data: []byte("hello")},
		{Size: 1 << 40, Data: []byte("head of a huge file")},
	}
	for _, want := range tests {
		got, err := decodeDoc(encodeDoc(&want))
		if err != nil || got.Size != want.Size || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("round trip of %+v: got %+v, %v", want, got, err)
		}
	}
	if _, err := decodeDoc([]byte{docVersion, 2, 9, 'a'}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated document: %v, want ErrCorrupt", err)
	}
}
