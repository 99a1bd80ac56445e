package ingest

import (
	"archive/zip"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CountFiles estimates how many entries a walk of the dataset at root will
// visit, cheaply, for a scan's progress line: MeasureDataset's Files and
// Exact.
func CountFiles(ctx context.Context, root string) (n int64, exact bool, err error) {
	e, err := MeasureDataset(ctx, root, nil)
	return e.Files, e.Exact, err
}

// Extent is what a dataset holds, measured without reading file content.
type Extent struct {
	// Files is how many entries a walk will visit.
	Files int64
	// Bytes is their size: file sizes, the uncompressed sizes of zip
	// members, and the uncompressed size a gzip file's trailer records
	// (a .nii.gz holds many slices in few bytes); archives the walk reads
	// through (tars) count at their file size.
	Bytes int64
	// Exact is false when Files is a guess: the dataset holds a tar (whose
	// members are only known by reading it through; it counts as one) or
	// an archive inside an archive (counted as one member). Files are
	// recognised as archives by name here, where the walk sniffs their
	// content, so a misnamed archive also makes the count an estimate,
	// unreported.
	Exact bool
	// Stopped is true when the measure was cut short by its stop function:
	// the dataset holds at least this much.
	Stopped bool
}

// MeasureDataset measures the dataset at root cheaply: it lists folders
// and reads the central directory of zips and the trailer of gzip files,
// but reads no other content. The scan uses it for its progress line's
// total and to size the free space it keeps on the index's device. When
// stop is not nil it is called after each file, and the measure ends early
// (Stopped) once it returns true: a caller asking "at least this much?"
// need not list a million files.
func MeasureDataset(ctx context.Context, root string, stop func(Extent) bool) (Extent, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return Extent{}, err
	}
	e := Extent{Exact: true}
	add := func(p string, size int64) {
		k, b, ok := measureFile(p, size)
		e.Files += k
		e.Bytes += b
		e.Exact = e.Exact && ok
	}
	if !fi.IsDir() {
		add(root, fi.Size())
		return e, nil
	}
	errStop := errors.New("stop")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		switch {
		case err != nil:
			if p == root {
				return err
			}
			e.Files++ // the walk reports an unreadable folder as one entry
		case d.IsDir():
			return nil
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				e.Files++ // the walk reports it
				return nil
			}
			add(p, info.Size())
		case d.Type()&fs.ModeSymlink != 0:
			// The walk follows links to files inside the dataset and
			// reports the others: either way one entry (a link to a
			// folder is walked where the folder is).
			if ti, err := os.Stat(p); err != nil || !ti.IsDir() {
				e.Files++
				if err == nil {
					e.Bytes += ti.Size()
				}
			}
		default:
			return nil
		}
		if stop != nil && stop(e) {
			e.Stopped = true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return e, err
}

// measureFile is the number of entries the file at p stands for and their
// bytes: a zip's members (its nested archives counted as one each), one
// for anything else. ok is false when that number is a guess: a tar, a
// nested archive, an unreadable zip.
func measureFile(p string, size int64) (n, bytes int64, ok bool) {
	name := strings.ToLower(p)
	switch {
	case strings.HasSuffix(name, ".zip"):
		zr, err := zip.OpenReader(p)
		if err != nil {
			return 1, size, false
		}
		defer zr.Close()
		ok = true
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			n++
			bytes += int64(min(f.UncompressedSize64, 1<<62))
			if isArchiveName(f.Name) {
				ok = false
			}
		}
		return n, bytes, ok
	case isArchiveName(name):
		return 1, size, false
	case strings.HasSuffix(name, ".gz"):
		return 1, max(size, gzipSize(p)), true
	}
	return 1, size, true
}

// gzipSize is the uncompressed size a gzip file's trailer records (modulo
// 4 GiB, as the format keeps it), or 0 when it cannot be read or the file
// is not gzip.
func gzipSize(p string) int64 {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	var b [4]byte
	fi, err := f.Stat()
	if err != nil || fi.Size() < 18 {
		return 0
	}
	if _, err := f.ReadAt(b[:2], 0); err != nil || b[0] != 0x1f || b[1] != 0x8b {
		return 0
	}
	if _, err := f.ReadAt(b[:], fi.Size()-4); err != nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint32(b[:]))
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
