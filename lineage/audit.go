package lineage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/ingest"
)

// auditDataset reads the documentation of one dataset and returns what it
// says about the licence and the origin. The index knows which files are
// documents (format "text"), so the source is walked only when it holds
// some. A source that is gone or unreadable gives "unavailable", not an
// error: the rest of the report is still worth having.
func auditDataset(ctx context.Context, st *index.Store, name, source string) (LicenseFinding, error) {
	want := map[string]docKind{}
	for f, err := range st.Files(ctx, name) {
		if err != nil {
			return LicenseFinding{}, fmt.Errorf("lineage: %w", err)
		}
		if k := classifyDoc(f.Path); k != docNone {
			want[f.Path] = k
		}
	}
	if len(want) == 0 {
		return LicenseFinding{}, nil
	}
	if _, err := os.Stat(source); err != nil {
		return LicenseFinding{Source: "unavailable"}, nil
	}
	var docs []document
	err := ingest.Walk(ctx, source, ingest.WalkOptions{}, func(e *ingest.Entry) error {
		k, ok := want[e.Path]
		if !ok {
			return nil
		}
		data, err := e.ReadHead(maxDocBytes)
		if err != nil {
			return nil // an unreadable document says nothing
		}
		docs = append(docs, document{e.Path, k, data})
		return nil
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return LicenseFinding{}, err
		}
		return LicenseFinding{Source: "unavailable"}, nil
	}
	return auditDocs(docs), nil
}

// document is one documentation file of a dataset.
type document struct {
	path string
	kind docKind
	data []byte
}

// auditDocs picks the licence and the stated source from a dataset's
// documents: the most deliberate convention wins (a LICENSE file over
// Kaggle metadata over a dataset card over JSON-LD over a README line),
// then the shallowest path.
func auditDocs(docs []document) LicenseFinding {
	slices.SortFunc(docs, func(a, b document) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(strings.Count(a.path, "/"), strings.Count(b.path, "/")),
			cmp.Compare(a.path, b.path))
	})
	var f LicenseFinding
	for _, d := range docs {
		lic, method, src := parseDoc(d.kind, d.data)
		if f.License == "" && lic != "" {
			f.License, f.Raw, f.Source, f.Method = toSPDX(lic), lic, d.path, method
			if f.Raw == f.License {
				f.Raw = ""
			}
		}
		if f.StatedSource == "" && src != "" {
			f.StatedSource = src
		}
	}
	if len(f.Raw) > 200 {
		f.Raw = strings.ToValidUTF8(f.Raw[:200], "")
	}
	return f
}
