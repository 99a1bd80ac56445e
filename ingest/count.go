package ingest

import (
	"archive/zip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CountFiles estimates how many entries a walk of the dataset at root will
// visit, cheaply, for a scan's progress line: it lists folders and reads
// the central directory of zips, but reads no file content. The estimate
// is exact unless the dataset holds a tar (whose members are only known by
// reading it through; it counts as one) or an archive inside an archive
// (counted as one member), which exact reports. Files are recognised as
// archives by name here, where the walk sniffs their content, so a
// misnamed archive also makes the count an estimate, unreported.
func CountFiles(ctx context.Context, root string) (n int64, exact bool, err error) {
	fi, err := os.Stat(root)
	if err != nil {
		return 0, false, err
	}
	exact = true
	count := func(p string) {
		k, ok := countArchive(p)
		n += k
		exact = exact && ok
	}
	if !fi.IsDir() {
		count(root)
		return n, exact, nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		switch {
		case err != nil:
			if p == root {
				return err
			}
			n++ // the walk reports an unreadable folder as one entry
		case d.IsDir():
		case d.Type().IsRegular():
			count(p)
		case d.Type()&fs.ModeSymlink != 0:
			// The walk follows links to files inside the dataset and
			// reports the others: either way one entry (a link to a
			// folder is walked where the folder is).
			if ti, err := os.Stat(p); err != nil || !ti.IsDir() {
				n++
			}
		}
		return nil
	})
	return n, exact, err
}

// countArchive is the number of entries the file at p stands for: a zip's
// members (its nested archives counted as one each), one for anything
// else. ok is false when that number is a guess: a tar, a nested archive,
// an unreadable zip.
func countArchive(p string) (n int64, ok bool) {
	name := strings.ToLower(p)
	switch {
	case strings.HasSuffix(name, ".zip"):
		zr, err := zip.OpenReader(p)
		if err != nil {
			return 1, false
		}
		defer zr.Close()
		ok = true
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			n++
			if isArchiveName(f.Name) {
				ok = false
			}
		}
		return n, ok
	case isArchiveName(name):
		return 1, false
	}
	return 1, true
}

// isArchiveName reports whether a file name says archive.
func isArchiveName(name string) bool {
	name = strings.ToLower(name)
	for _, ext := range []string{".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
