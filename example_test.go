package copycat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/copycat-dev/copycat"
)

// demoIndex scans the project's demo datasets (DICOM originals and a
// re-upload of them as JPEG in a tar.gz) into a new index in a temporary
// folder, and returns it open with a function that cleans up.
func demoIndex() (*copycat.Index, func()) {
	dir, err := os.MkdirTemp("", "copycat-example-")
	if err != nil {
		log.Fatal(err)
	}
	ix, err := copycat.Open(filepath.Join(dir, "index"), copycat.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = ix.Scan(context.Background(), []copycat.Dataset{
		{Name: "original", Path: "testdata/demo/original"},
		copycat.ParseDataset("kaggle-copy=testdata/demo/kaggle-copy.tar.gz"),
	}, copycat.ScanOptions{})
	if err != nil {
		log.Fatal(err)
	}
	return ix, func() { ix.Close(); os.RemoveAll(dir) }
}

// Scan two datasets into a new index and list them.
func ExampleIndex_Scan() {
	dir, err := os.MkdirTemp("", "copycat-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ix, err := copycat.Open(filepath.Join(dir, "index"), copycat.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	sum, err := ix.Scan(ctx, []copycat.Dataset{
		copycat.ParseDataset("testdata/demo/original"),
		copycat.ParseDataset("testdata/demo/broken"),
	}, copycat.ScanOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range sum.Datasets {
		fmt.Printf("%s: %d files, %d images, %d failed\n", d.Name, d.Files, d.Images, d.FailedTotal)
	}
	infos, err := ix.Datasets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range infos {
		fmt.Printf("in the index: %s, %d images, complete %v\n", d.Name, d.Images, d.Complete)
	}
	// Output:
	// original: 7 files, 7 images, 0 failed
	// broken: 5 files, 0 images, 4 failed
	// in the index: broken, 0 images, complete true
	// in the index: original, 7 images, complete true
}

// Look an image file up: its copies in the index, nearest first.
func ExampleIndex_Query() {
	ix, cleanup := demoIndex()
	defer cleanup()
	results, err := ix.Query(context.Background(), "testdata/demo/original/ct_0002.dcm", copycat.QueryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		for _, m := range r.Matches {
			fmt.Printf("%s %s/%s: distance %d after %s, verified %v\n",
				m.Kind, m.Image.Dataset, m.Image.Path, m.Distance, m.Result.TransformName(), m.Verified)
		}
	}
	// Output:
	// identical-file original/ct_0002.dcm: distance 0 after none, verified true
	// near-duplicate kaggle-copy/train/0002.jpg: distance 0 after flip-left-right, verified true
}

// A file that cannot be decoded gives a *FileError, which unwraps to the
// decoder's typed error.
func ExampleIndex_Query_corrupt() {
	ix, cleanup := demoIndex()
	defer cleanup()
	_, err := ix.QueryBytes(context.Background(), "truncated.png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), copycat.QueryOptions{})
	var fe *copycat.FileError
	var ce *copycat.CorruptError
	fmt.Println(errors.As(err, &fe), fe.Path, errors.As(err, &ce), errors.Is(err, copycat.ErrCorrupt))
	// Output:
	// true truncated.png true true
}

// Group every image with its copies.
func ExampleIndex_Clusters() {
	ix, cleanup := demoIndex()
	defer cleanup()
	clusters, _, err := ix.Clusters(context.Background(), copycat.ClusterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range clusters {
		fmt.Printf("cluster of %d:", len(c.Members))
		for _, m := range c.Members {
			fmt.Printf(" %s/%s (%s, %s)", m.Dataset, m.Path, m.Kind, m.Transform)
		}
		fmt.Println()
	}
	// Output:
	// cluster of 3: original/ct_0001.dcm (representative, none) kaggle-copy/test/0004.jpg (near-duplicate, none) kaggle-copy/train/0001.jpg (near-duplicate, none)
	// cluster of 2: original/ct_0003.dcm (representative, none) kaggle-copy/test/0003.jpg (near-duplicate, none)
	// cluster of 2: original/ct_0002.dcm (representative, none) kaggle-copy/train/0002.jpg (near-duplicate, flip-left-right)
}

// Say which dataset derives from which, and how.
func ExampleIndex_Lineage() {
	ix, cleanup := demoIndex()
	defer cleanup()
	report, err := ix.Lineage(context.Background(), copycat.LineageOptions{NoDocuments: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range report.Edges {
		fmt.Printf("%s -> %s: %d shared images, %v\n", e.Original, e.Copy, e.SharedImages, e.Transforms)
	}
	// Output:
	// original -> kaggle-copy: 3 shared images, [rendered-from-dicom re-encoded lossy bit-depth-reduced resized flip-left-right]
}
