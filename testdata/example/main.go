// Command example is a Go program that uses copycat as a library, built
// against the module it sits in (see go.mod's replace): it scans two
// datasets into a new index, looks an image up, and lists the clusters of
// copies. The test TestExampleModule in the module root builds and runs it.
//
//	cd testdata/example && go run . ../demo/original ../demo/kaggle-copy.tar.gz
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/copycat-dev/copycat"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: example ORIGINAL COPY... (folders or archives)")
	}
	dir, err := os.MkdirTemp("", "copycat-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ix, err := copycat.Open(filepath.Join(dir, "index"), copycat.Options{})
	if err != nil {
		return err
	}
	defer ix.Close()

	var datasets []copycat.Dataset
	for _, a := range args {
		datasets = append(datasets, copycat.ParseDataset(a))
	}
	sum, err := ix.Scan(ctx, datasets, copycat.ScanOptions{})
	if err != nil {
		return err
	}
	for _, d := range sum.Datasets {
		fmt.Printf("scanned %s: %d images, %d failed\n", d.Name, d.Images, d.FailedTotal)
	}

	// Look up every file of the first dataset that is an image.
	var queried, withCopies int
	err = filepath.WalkDir(args[0], func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		results, err := ix.Query(ctx, p, copycat.QueryOptions{})
		var fe *copycat.FileError
		if errors.As(err, &fe) {
			return nil // not an image (a README), or unreadable
		}
		if err != nil {
			return err
		}
		for _, r := range results {
			queried++
			for _, m := range r.Matches {
				if m.Image.Dataset != sum.Datasets[0].Name && m.Verified {
					withCopies++
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("queried %d images of %s: %d have a verified copy elsewhere\n", queried, sum.Datasets[0].Name, withCopies)

	clusters, stats, err := ix.Clusters(ctx, copycat.ClusterOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("%d clusters among %d images\n", len(clusters), stats.Images)
	return nil
}
