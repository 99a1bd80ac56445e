package scan

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/index"
)

// docSet gathers the documentation files of the dataset being scanned, to
// be kept in the index (index.Writer.SetDocuments) so that lineage can
// read them after the source is gone. It holds at most index.MaxDocuments
// documents and index.MaxDocumentsBytes of their data: past that the least
// telling one is dropped (kind, then depth, then path; past the bytes,
// the least telling one large enough to make room). Only the writer
// goroutine uses it.
type docSet struct {
	docs  []docEntry
	bytes int
}

// docEntry is a document read by this scan (data set) or one the index
// already holds for an unchanged file (keep).
type docEntry struct {
	doc  index.Document
	keep bool
	kind index.DocumentKind
}

// docHead is what a worker keeps of a documentation file: its first
// index.MaxDocumentBytes, copied so that a huge "README" read whole does
// not stay in memory.
func docHead(p string, data []byte) []byte {
	if index.KindOfDocument(p) == index.NotDocument {
		return nil
	}
	return bytes.Clone(data[:min(len(data), index.MaxDocumentBytes)])
}

func (s *docSet) add(d index.Document, keep bool) {
	e := docEntry{doc: d, keep: keep, kind: index.KindOfDocument(d.Path)}
	if e.kind == index.NotDocument {
		return
	}
	if e.doc.Data == nil && !keep {
		e.doc.Data = []byte{}
	}
	s.docs = append(s.docs, e)
	s.bytes += len(e.doc.Data)
	for len(s.docs) > index.MaxDocuments || s.bytes > index.MaxDocumentsBytes {
		// Over the bytes, the least telling document big enough to
		// make room goes, rather than many small ones before it.
		excess := s.bytes - index.MaxDocumentsBytes
		worst := -1
		for pass := 0; worst < 0; pass++ {
			for i := range s.docs {
				if pass == 0 && excess > 0 && len(s.docs[i].doc.Data) < excess {
					continue
				}
				if worst < 0 || docOrder(s.docs[i], s.docs[worst]) > 0 {
					worst = i
				}
			}
		}
		s.bytes -= len(s.docs[worst].doc.Data)
		s.docs = slices.Delete(s.docs, worst, worst+1)
	}
}

// docOrder ranks documents: the more telling first.
func docOrder(a, b docEntry) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(strings.Count(a.doc.Path, "/"), strings.Count(b.doc.Path, "/")),
		cmp.Compare(a.doc.Path, b.doc.Path))
}

// store writes the documents gathered into the index.
func (s *docSet) store(sc *index.Writer) error {
	var docs []index.Document
	var keep []string
	for _, e := range s.docs {
		if e.keep {
			keep = append(keep, e.doc.Path)
		} else {
			docs = append(docs, e.doc)
		}
	}
	return sc.SetDocuments(docs, keep)
}
