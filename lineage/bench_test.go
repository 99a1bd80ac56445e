package lineage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/copycat-dev/copycat/index"
)

// BenchmarkAnalyze measures a whole analysis of the demo lineage (13
// images, three datasets): loading, clusters, the dihedral join, licence
// audit and edges. It bounds the fixed cost per run; the cost at scale is
// dominated by index.Clusters and the 8N-hash join.
func BenchmarkAnalyze(b *testing.B) {
	_, st, _ := demoWorld(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Analyze(ctx, st, Options{MaxDistance: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteHTML measures rendering the report with its thumbnails.
func BenchmarkWriteHTML(b *testing.B) {
	rep, st, _ := demoWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := rep.WriteHTML(b.Context(), io.Discard, st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSPDX(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		toSPDX("Creative Commons Attribution-NonCommercial 4.0 International")
	}
}

func TestEmptyIndex(t *testing.T) {
	dir := t.TempDir()
	w, err := index.Open(dir, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Analyze(context.Background(), st, Options{MaxDistance: -1}); !errors.Is(err, ErrNoDatasets) {
		t.Errorf("Analyze on an empty index: %v, want ErrNoDatasets", err)
	}
}

// TestSourceGone: a dataset whose folder was removed after the scan is
// still analysed, and its licence still read: the scan kept its
// documentation in the index.
func TestSourceGone(t *testing.T) {
	w := newWorld(t)
	w.run("copy orig demo ct_0001.dcm ct_0002.dcm")
	w.run("write orig README.md License: MIT")
	w.run("derive copy orig png")
	st := w.scanAll(context.Background())
	if err := os.RemoveAll(filepath.Join(w.dir, "orig")); err != nil {
		t.Fatal(err)
	}
	rep, err := Analyze(context.Background(), st, Options{MaxDistance: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range rep.Datasets {
		got[d.Name] = d.License + " from " + d.LicenseFinding.Source
	}
	if got["orig"] != "MIT from README.md" || got["copy"] != " from " {
		t.Errorf("licences = %q, want orig MIT from README.md, copy none", got)
	}
	if len(rep.Edges) != 1 || rep.Edges[0].Original != "orig" {
		t.Errorf("edges = %+v, want orig -> copy", rep.Edges)
	}
}

func TestAnalyzeCancelled(t *testing.T) {
	_, st, _ := demoWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Analyze(ctx, st, Options{MaxDistance: -1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Analyze with a cancelled context: %v, want context.Canceled", err)
	}
}
