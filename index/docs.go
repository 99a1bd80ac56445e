package index

// Documentation kept with a dataset: its licence files, README, Kaggle
// metadata and dataset card, so that lineage can audit them after the
// download was moved or deleted (the source is read once, by the scan).

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Limits on the documentation kept per dataset. A licence, a README or a
// card is a few KB; the limits keep a dataset of 10,000 "README.md" files
// (one per case folder) from filling the index. The scan keeps the most
// telling documents when a dataset has more (lineage.DocumentRank).
const (
	// MaxDocumentBytes is the most kept of one document: its head.
	MaxDocumentBytes = 1 << 20
	// MaxDocuments is the most documents kept per dataset.
	MaxDocuments = 32
	// MaxDocumentsBytes bounds the bytes kept per dataset.
	MaxDocumentsBytes = 4 << 20
)

// tagDoc keys a documentation file: T<dataset ID:4><path>. The key with
// an empty path is the dataset's marker: documents were recorded for it
// (an index written before documents were kept has none, so lineage can
// tell "no documentation" from "not recorded").
const tagDoc = 'T'

// docVersion is the version byte of document values.
const docVersion = 1

// Document is one documentation file of a dataset as the index keeps it.
type Document struct {
	Path string // path inside the dataset, as File.Path
	Size int64  // size of the file; Data holds at most MaxDocumentBytes of it
	Data []byte
}

func docPrefix(ds uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{tagDoc}, ds)
}

func docKey(ds uint32, path string) []byte {
	return append(docPrefix(ds), path...)
}

// parseDocKey splits a document key into dataset ID and path ("" for the
// marker).
func parseDocKey(k []byte) (ds uint32, path string, err error) {
	if len(k) < 5 || k[0] != tagDoc {
		return 0, "", fmt.Errorf("%w: bad document key %q", ErrCorrupt, k)
	}
	return binary.BigEndian.Uint32(k[1:5]), string(k[5:]), nil
}

func encodeDoc(d *Document) []byte {
	e := encoder{b: make([]byte, 0, len(d.Data)+12)}
	e.byte(docVersion)
	e.varint(d.Size)
	e.bytes(d.Data)
	return e.b
}

func decodeDoc(b []byte) (Document, error) {
	d := decoder{b: b}
	d.version("document", docVersion)
	var doc Document
	doc.Size = d.varint()
	doc.Data = []byte(d.string())
	return doc, d.end("document")
}

// HasDocument reports whether the index holds document path of the
// dataset being scanned: the scan reads an unchanged documentation file
// again when it does not (an index from before documents were kept).
func (sc *Writer) HasDocument(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	var found bool
	err := sc.s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(docKey(sc.rec.ID, path))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("document %s: %w", path, err)
	}
	return found, nil
}

// SetDocuments replaces the documentation kept for the dataset being
// scanned: docs are written (Data cut to MaxDocumentBytes), the documents
// named in keep stay as they are (unchanged files the scan did not read
// again), and every other document of the dataset is removed. It marks
// the dataset as having its documents recorded. Call it before Finish;
// it fails with ErrTooLarge beyond MaxDocuments or MaxDocumentsBytes.
func (sc *Writer) SetDocuments(docs []Document, keep []string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if err := sc.usable(); err != nil {
		return err
	}
	if len(docs)+len(keep) > MaxDocuments {
		return fmt.Errorf("documents of %q: %w: %d documents", sc.name, ErrTooLarge, len(docs)+len(keep))
	}
	total := 0
	for _, d := range docs {
		total += min(len(d.Data), MaxDocumentBytes)
	}
	if total > MaxDocumentsBytes {
		return fmt.Errorf("documents of %q: %w: %d bytes", sc.name, ErrTooLarge, total)
	}
	stay := map[string]bool{"": true}
	for _, p := range keep {
		stay[p] = true
	}
	for _, d := range docs {
		stay[d.Path] = true
	}
	var stale [][]byte
	err := sc.s.eachDocKey(sc.rec.ID, func(k []byte, path string) error {
		if !stay[path] {
			stale = append(stale, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("documents of %q: %w", sc.name, err)
	}
	w := sc.s.db.NewWriteBatch()
	defer w.Cancel()
	for _, k := range stale {
		if err := w.Delete(k); err != nil {
			return fmt.Errorf("documents of %q: %w", sc.name, err)
		}
	}
	for _, d := range docs {
		if d.Path == "" {
			continue
		}
		if len(d.Data) > MaxDocumentBytes {
			d.Data = d.Data[:MaxDocumentBytes]
		}
		if err := w.Set(docKey(sc.rec.ID, d.Path), encodeDoc(&d)); err != nil {
			return fmt.Errorf("documents of %q: %w", sc.name, err)
		}
	}
	if err := w.Set(docKey(sc.rec.ID, ""), []byte{docVersion}); err != nil {
		return fmt.Errorf("documents of %q: %w", sc.name, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("documents of %q: %w", sc.name, err)
	}
	return nil
}

// eachDocKey calls fn with every document key of dataset ds (the marker
// included, with path ""), from a snapshot: fn may write.
func (s *Store) eachDocKey(ds uint32, fn func(k []byte, path string) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: docPrefix(ds)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			_, path, err := parseDocKey(k)
			if err != nil {
				return err
			}
			if err := fn(k, path); err != nil {
				return err
			}
		}
		return nil
	})
}

// Documents returns the documentation kept for a dataset, in path order,
// and whether any was recorded: false for a dataset scanned before
// documents were kept (its documentation is then unknown to the index,
// not absent).
func (s *Store) Documents(ctx context.Context, dataset string) ([]Document, bool, error) {
	if err := s.checkOpen(false); err != nil {
		return nil, false, err
	}
	rec, err := s.lookupDataset(dataset)
	if err != nil {
		return nil, false, err
	}
	var docs []Document
	recorded := false
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: docPrefix(rec.ID), PrefetchValues: true, PrefetchSize: 8})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			_, path, err := parseDocKey(it.Item().Key())
			if err != nil {
				return err
			}
			if path == "" {
				recorded = true
				continue
			}
			var d Document
			err = it.Item().Value(func(v []byte) error {
				var err error
				d, err = decodeDoc(v)
				return err
			})
			if err != nil {
				return fmt.Errorf("document %s: %w", path, err)
			}
			d.Path = path
			docs = append(docs, d)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("documents of %q: %w", dataset, err)
	}
	return docs, recorded, nil
}

// deleteDocuments removes every document of dataset ds (Forget).
func (s *Store) deleteDocuments(ds uint32) error {
	w := s.db.NewWriteBatch()
	defer w.Cancel()
	err := s.eachDocKey(ds, func(k []byte, _ string) error { return w.Delete(k) })
	if err != nil {
		return err
	}
	return w.Flush()
}

// DocumentKind says which convention a documentation file follows, by its
// name. Lower kinds are the more deliberate statements: a LICENSE file
// over Kaggle's metadata over a dataset card over JSON-LD over another
// README.
type DocumentKind int

// The kinds of documentation file.
const (
	NotDocument    DocumentKind = iota
	LicenseFile                 // LICENSE, LICENCE, COPYING (any extension)
	KaggleMetadata              // dataset-metadata.json
	DatasetCard                 // README.md: a Hugging Face card has YAML front matter
	JSONLD                      // croissant.json, metadata.json, datapackage.json, *.jsonld
	Readme                      // other READMEs (README, README.txt, readme.rst)
)

// MaxDocumentDepth is the deepest folder level (slashes in the path, an
// archive's "!/" included) from which documents are kept: a dataset's
// own documentation sits at its top, per-case notes deeper down.
const MaxDocumentDepth = 2

// KindOfDocument classifies a file of a dataset by its path: NotDocument
// for anything but documentation, and for documentation deeper than
// MaxDocumentDepth.
func KindOfDocument(p string) DocumentKind {
	if strings.Count(p, "/") > MaxDocumentDepth {
		return NotDocument
	}
	base := strings.ToLower(path.Base(p))
	stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, ".txt"), ".md"), ".rst")
	switch {
	case stem == "license" || stem == "licence" || stem == "copying" ||
		strings.HasPrefix(base, "license.") || strings.HasPrefix(base, "licence.") ||
		strings.HasPrefix(base, "license-") || strings.HasPrefix(base, "licence-") ||
		strings.HasPrefix(base, "license_") || strings.HasPrefix(base, "licence_"):
		return LicenseFile
	case base == "dataset-metadata.json":
		return KaggleMetadata
	case base == "readme.md":
		return DatasetCard
	case base == "croissant.json" || base == "metadata.json" || strings.HasSuffix(base, ".jsonld") ||
		base == "datapackage.json":
		return JSONLD
	case strings.HasPrefix(base, "readme"):
		return Readme
	}
	return NotDocument
}
