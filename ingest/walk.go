package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	// klauspost's gzip inflates about 1.5 times as fast as the standard
	// library's (ingest.BenchmarkInflateNIfTI256): .nii.gz volumes and
	// tar.gz datasets are read through it.
	"github.com/klauspost/compress/gzip"
)

// Walk limits. Each has a default chosen so that one file, decoded, fits
// comfortably in memory next to the other workers' files.
const (
	// DefaultMaxFileSize is the largest file or archive member read into
	// memory: large multi-frame DICOMs reach a few hundred MB.
	DefaultMaxFileSize = 1 << 30
	// DefaultMaxRatio is the largest compression ratio accepted for an
	// archive member larger than 1 MiB; real images compress far less
	// (blank DICOM frames reach about 100:1), zip bombs far more.
	DefaultMaxRatio = 1000
	// DefaultMaxNesting is how many archives deep a walk goes: a dataset
	// archive may hold archives, but those are not opened further.
	DefaultMaxNesting = 1
)

// WalkOptions bound what a walk reads. The zero value uses the defaults.
type WalkOptions struct {
	MaxFileSize int64 // bytes read for one file or member
	MaxRatio    int64 // uncompressed/compressed, for members over 1 MiB
	MaxNesting  int   // archives inside archives
}

func (o WalkOptions) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (o WalkOptions) maxRatio() int64 {
	if o.MaxRatio > 0 {
		return o.MaxRatio
	}
	return DefaultMaxRatio
}

func (o WalkOptions) maxNesting() int {
	if o.MaxNesting > 0 {
		return o.MaxNesting
	}
	return DefaultMaxNesting
}

// Entry is one file of a dataset: a file in a folder or a member of an
// archive. Its content is read on demand by ReadAll, so that a walker can
// run ahead of the workers that decode.
type Entry struct {
	// Path is the slash-separated path inside the dataset. Members of an
	// archive nested in the dataset read "inner.zip!/member".
	Path    string
	Size    int64
	ModTime time.Time
	// Err is set when the walker could not produce the entry's content (a
	// refused member name, a member over a limit, a corrupt archive). The
	// entry is still reported so that the failure reaches the summary.
	Err error

	data []byte                        // content already in memory (tar members)
	open func() (io.ReadCloser, error) // content read on demand
	max  int64
}

// ReadAll returns the entry's content, refusing more than the walk's file
// size limit.
func (e *Entry) ReadAll() ([]byte, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	if e.data != nil || e.open == nil {
		return e.data, nil
	}
	if e.Size > e.max {
		return nil, sizeError(e.Size, e.max)
	}
	rc, err := e.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readLimited(rc, e.Size, e.max)
}

// ReadHead returns at most the first n bytes of the entry's content, for
// callers that need only a file's head (the first megabyte of a README):
// a larger file is not read beyond it, whatever the walk's size limit.
func (e *Entry) ReadHead(n int64) ([]byte, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	if e.data != nil || e.open == nil {
		return e.data[:min(int64(len(e.data)), n)], nil
	}
	rc, err := e.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, n))
}

func sizeError(size, limit int64) error {
	return &TooLargeError{
		What:  fmt.Sprintf("file of %d bytes", size),
		Limit: fmt.Sprintf("file size limit of %d bytes", limit),
	}
}

// readLimited reads r to the end, refusing more than max bytes whatever the
// header claimed.
func readLimited(r io.Reader, sizeHint, limit int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(sizeHint, 0), limit)+bytes.MinRead))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, readError(err)
	}
	if n > limit {
		return nil, &TooLargeError{What: fmt.Sprintf("content of more than %d bytes", limit), Limit: fmt.Sprintf("file size limit of %d bytes", limit)}
	}
	return buf.Bytes(), nil
}

// readError classifies an error met while reading content: archive
// checksum and truncation errors mean corrupt input, anything else (a
// permission error, say) is passed on as is.
func readError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, zip.ErrChecksum), errors.Is(err, gzip.ErrChecksum),
		errors.Is(err, gzip.ErrHeader), errors.Is(err, zip.ErrFormat), errors.Is(err, tar.ErrHeader):
		return &CorruptError{Err: err}
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		return err
	}
	if strings.HasPrefix(err.Error(), "flate:") {
		return &CorruptError{Err: err}
	}
	return err
}

// Dataset is one dataset opened for walking: a folder, a zip, a tar or a
// gzip'd tar. It keeps the archive files it meets open until Close, so that
// entries can be read by other goroutines after the walk has moved on: the
// walker runs ahead of the workers that decode. A Dataset is walked once;
// Close must be called when every entry has been read.
type Dataset struct {
	root  string
	opts  WalkOptions
	mu    sync.Mutex
	files []io.Closer
}

// OpenDataset checks that root is a folder or an archive and returns it
// ready to walk.
func OpenDataset(root string, opts WalkOptions) (*Dataset, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", root, err)
	}
	if !fi.IsDir() {
		f, err := os.Open(root)
		if err != nil {
			return nil, fmt.Errorf("open dataset %s: %w", root, err)
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if k, _ := sniffContainer(head[:n]); k != KindArchive {
			return nil, fmt.Errorf("open dataset %s: not a folder, zip, tar or tar.gz", root)
		}
	}
	return &Dataset{root: root, opts: opts}, nil
}

// ReadFileHead returns at most the first n bytes of the file at path, for
// sniffing what it is without reading it all.
func ReadFileHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, n)
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:m], nil
}

// Close closes the archive files the walk opened.
func (d *Dataset) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first error
	for _, c := range d.files {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	d.files = nil
	return first
}

// keep registers an archive file to close at Close.
func (d *Dataset) keep(c io.Closer) {
	d.mu.Lock()
	d.files = append(d.files, c)
	d.mu.Unlock()
}

// Walk calls fn for every file of the dataset. Archives found inside are
// walked as part of the dataset, down to the nesting limit. Files are
// visited in lexical order within each folder or in archive order. Walk
// stops at the first error fn returns, or when ctx is done; failures of
// single files arrive as entries with Err set instead of stopping the walk.
func (d *Dataset) Walk(ctx context.Context, fn func(*Entry) error) error {
	root := d.root
	w := &walker{ctx: ctx, opts: d.opts, fn: fn, ds: d}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	if fi.IsDir() {
		return w.folder(root)
	}
	f, err := os.Open(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	kind, name := sniffContainer(head[:n])
	if kind != KindArchive {
		f.Close()
		return fmt.Errorf("walk %s: not a folder, zip, tar or tar.gz", root)
	}
	base := filepath.Base(root)
	if name == "zip" {
		d.keep(f)
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			return fmt.Errorf("walk %s: %w", root, &CorruptError{Err: err})
		}
		return w.zip(zr, "", 0)
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	return w.tarStream(f, name == "gzip", "", 0, base)
}

// Walk opens the dataset at root, walks it and closes it: for callers that
// read each entry inside fn.
func Walk(ctx context.Context, root string, opts WalkOptions, fn func(*Entry) error) error {
	d, err := OpenDataset(root, opts)
	if err != nil {
		return err
	}
	err = d.Walk(ctx, fn)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// DatasetName is the default name of a dataset at path p: its base name
// without archive extensions.
func DatasetName(p string) string {
	base := filepath.Base(filepath.Clean(p))
	lower := strings.ToLower(base)
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		if strings.HasSuffix(lower, ext) && len(base) > len(ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return base
}

type walker struct {
	ctx  context.Context
	opts WalkOptions
	fn   func(*Entry) error
	ds   *Dataset
}

func (w *walker) emit(e *Entry) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	e.max = w.opts.maxFileSize()
	return w.fn(e)
}

// folder walks a directory tree without following symlinks out of it.
func (w *walker) folder(root string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("walk %s: %w", root, err)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := w.ctx.Err(); cerr != nil {
			return cerr
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if p == root {
				return fmt.Errorf("walk %s: %w", root, err)
			}
			// An unreadable folder: report it and go on.
			return w.emit(&Entry{Path: rel, Err: err})
		}
		if d.IsDir() {
			return nil
		}
		full := p
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return w.emit(&Entry{Path: rel, Err: fmt.Errorf("broken symlink: %w", err)})
			}
			if r, err := filepath.Rel(realRoot, target); err != nil || !filepath.IsLocal(r) {
				return w.emit(&Entry{Path: rel, Err: &UnsupportedError{Reason: "symlink points outside the dataset root; not followed"}})
			}
			ti, err := os.Stat(target)
			if err != nil || !ti.Mode().IsRegular() {
				return nil // a link to a folder inside the dataset: its files are walked there
			}
			full = target
		} else if !d.Type().IsRegular() {
			return nil // devices, sockets, pipes
		}
		info, err := os.Stat(full)
		if err != nil {
			return w.emit(&Entry{Path: rel, Err: err})
		}
		return w.file(full, rel, info)
	})
}

// file emits one regular file of a folder, or walks it when it is an
// archive.
func (w *walker) file(full, rel string, info fs.FileInfo) error {
	e := &Entry{Path: rel, Size: info.Size(), ModTime: info.ModTime(),
		open: func() (io.ReadCloser, error) { return os.Open(full) }}
	f, err := os.Open(full)
	if err != nil {
		e.Err = err
		return w.emit(e)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	kind, name := sniffContainer(head[:n])
	if kind != KindArchive || name != "zip" {
		// Only a zip is read after the walk moves on; a tar is streamed now.
		defer f.Close()
	} else {
		w.ds.keep(f)
	}
	if kind != KindArchive {
		return w.emit(e)
	}
	prefix := rel + "!/"
	if w.opts.maxNesting() < 1 {
		e.Err = nestingError(rel, w.opts.maxNesting())
		return w.emit(e)
	}
	switch name {
	case "zip":
		zr, err := zip.NewReader(f, info.Size())
		if err != nil {
			e.Err = &CorruptError{Err: fmt.Errorf("zip: %w", err)}
			return w.emit(e)
		}
		return w.zip(zr, prefix, 1)
	default:
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			e.Err = err
			return w.emit(e)
		}
		return w.tarOrGzip(f, name, prefix, 1, e)
	}
}

func nestingError(p string, limit int) error {
	return &TooLargeError{What: "archive " + p, Limit: fmt.Sprintf("nesting depth limit of %d", limit)}
}

// memberName checks an archive member name and returns it cleaned. Names
// that would climb out of the archive, or are absolute, are refused.
func memberName(name string) (string, bool) {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return n, false
	}
	c := path.Clean(n)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return n, false
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return n, false
		}
	}
	return c, true
}

func refusedName(prefix, name string) *Entry {
	return &Entry{Path: prefix + name, Err: &UnsupportedError{Reason: fmt.Sprintf("archive member name %q is not a local path; refused", name)}}
}

// zip walks a zip archive; depth counts the archives above it.
func (w *walker) zip(zr *zip.Reader, prefix string, depth int) error {
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		name, ok := memberName(f.Name)
		if !ok {
			if err := w.emit(refusedName(prefix, f.Name)); err != nil {
				return err
			}
			continue
		}
		if !f.Mode().IsRegular() {
			continue // symlinks inside archives are not followed
		}
		e := &Entry{Path: prefix + name, Size: int64(f.UncompressedSize64), ModTime: f.Modified}
		switch {
		case f.Flags&0x1 != 0:
			e.Err = &UnsupportedError{Reason: "encrypted zip member"}
		case f.UncompressedSize64 > uint64(w.opts.maxFileSize()):
			e.Err = sizeError(int64(f.UncompressedSize64), w.opts.maxFileSize())
		case f.UncompressedSize64 > 1<<20 && f.UncompressedSize64 > uint64(w.opts.maxRatio())*max(f.CompressedSize64, 1):
			e.Err = ratioError(int64(f.UncompressedSize64), int64(f.CompressedSize64), w.opts.maxRatio())
		default:
			f := f
			e.open = func() (io.ReadCloser, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, readError(err)
				}
				return rc, nil
			}
		}
		if e.Err == nil {
			if nested, err := w.maybeNested(e, depth); nested || err != nil {
				if err != nil {
					return err
				}
				continue
			}
		}
		if err := w.emit(e); err != nil {
			return err
		}
	}
	return nil
}

func ratioError(size, compressed, limit int64) error {
	return &TooLargeError{
		What:  fmt.Sprintf("member expanding %d bytes to %d", compressed, size),
		Limit: fmt.Sprintf("compression ratio limit of %d:1", limit),
	}
}

// maybeNested opens an archive member that is itself an archive and walks
// it. It reports whether e was an archive (and so has been dealt with).
func (w *walker) maybeNested(e *Entry, depth int) (bool, error) {
	rc, err := e.open()
	if err != nil {
		e.Err = err
		return false, nil
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(rc, head)
	rc.Close()
	kind, name := sniffContainer(head[:n])
	if kind != KindArchive {
		return false, nil
	}
	if name == "gzip" {
		// A gzip'd single file (scan.dcm.gz) is read as that file; a gzip'd
		// tar is an archive.
		return w.gzipMember(e, depth)
	}
	if depth >= w.opts.maxNesting() {
		e.Err = nestingError(e.Path, w.opts.maxNesting())
		return true, w.emit(e)
	}
	data, err := e.ReadAll()
	if err != nil {
		e.Err = err
		return true, w.emit(e)
	}
	prefix := e.Path + "!/"
	if name == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			e.Err = &CorruptError{Err: fmt.Errorf("zip: %w", err)}
			return true, w.emit(e)
		}
		return true, w.zip(zr, prefix, depth+1)
	}
	return true, w.tarStream(bytes.NewReader(data), false, prefix, depth+1, e.Path)
}

// gzipMember handles a gzip'd member: a tar inside is walked (within the
// nesting limit); any other content becomes the entry's content.
func (w *walker) gzipMember(e *Entry, depth int) (bool, error) {
	rc, err := e.open()
	if err != nil {
		e.Err = err
		return true, w.emit(e)
	}
	defer rc.Close()
	gz, err := gzip.NewReader(rc)
	if err != nil {
		e.Err = &CorruptError{Err: fmt.Errorf("gzip: %w", err)}
		return true, w.emit(e)
	}
	// A gzip stream does not say how large it inflates: bound it by the
	// ratio limit as well as the size limit, as zip members are (a .nii.gz
	// of a blank mask is the largest ratio real data reaches, some 100:1).
	limit := w.opts.maxFileSize()
	byRatio := e.Size > 0 && max(1<<20, w.opts.maxRatio()*e.Size) < limit
	if byRatio {
		limit = max(1<<20, w.opts.maxRatio()*e.Size)
	}
	data, err := readLimited(gz, e.Size, limit)
	if err != nil {
		if byRatio && errors.Is(err, ErrTooLarge) {
			err = &TooLargeError{
				What:  fmt.Sprintf("gzip stream of %d bytes inflating past %d", e.Size, limit),
				Limit: fmt.Sprintf("compression ratio limit of %d:1", w.opts.maxRatio()),
			}
		}
		e.Err = err
		return true, w.emit(e)
	}
	if k, _ := sniffContainer(data[:min(len(data), 512)]); k == KindArchive && len(data) >= 263 && string(data[257:262]) == "ustar" {
		if depth >= w.opts.maxNesting() {
			e.Err = nestingError(e.Path, w.opts.maxNesting())
			return true, w.emit(e)
		}
		return true, w.tarStream(bytes.NewReader(data), false, e.Path+"!/", depth+1, e.Path)
	}
	e.data, e.open, e.Size = data, nil, int64(len(data))
	return true, w.emit(e)
}

// tarOrGzip walks a tar or gzip'd tar held in a folder file; a gzip'd
// single file is emitted decompressed.
func (w *walker) tarOrGzip(r io.ReadSeeker, name, prefix string, depth int, e *Entry) error {
	if name == "gzip" {
		gz, err := gzip.NewReader(r)
		if err != nil {
			e.Err = &CorruptError{Err: fmt.Errorf("gzip: %w", err)}
			return w.emit(e)
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(gz, head)
		if n < 263 || string(head[257:262]) != "ustar" {
			gz.Close()
			// Not a tar: the file is its decompressed content.
			_, _ = r.Seek(0, io.SeekStart)
			_, err := w.gzipMember(e, depth)
			return err
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			e.Err = err
			return w.emit(e)
		}
		return w.tarStream(r, true, prefix, depth, e.Path)
	}
	return w.tarStream(r, false, prefix, depth, e.Path)
}

// tarStream walks a tar stream. Members are read here, in order, because a
// tar cannot be read out of order; their content travels with the entry.
func (w *walker) tarStream(r io.Reader, gzipped bool, prefix string, depth int, label string) error {
	if gzipped {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return w.emit(&Entry{Path: label, Err: &CorruptError{Err: fmt.Errorf("gzip: %w", err)}})
		}
		defer gz.Close()
		r = gz
	}
	tr := tar.NewReader(r)
	members := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.emit(&Entry{Path: label, Err: &CorruptError{Err: fmt.Errorf("archive unreadable after %d members: %w", members, err)}})
		}
		members++
		// The reader reports old-style regular files (TypeRegA) as TypeReg.
		if h.Typeflag != tar.TypeReg {
			continue // folders, links, devices: nothing to read
		}
		name, ok := memberName(h.Name)
		if !ok {
			if err := w.emit(refusedName(prefix, h.Name)); err != nil {
				return err
			}
			continue
		}
		e := &Entry{Path: prefix + name, Size: h.Size, ModTime: h.ModTime}
		if h.Size > w.opts.maxFileSize() {
			e.Err = sizeError(h.Size, w.opts.maxFileSize())
			if err := w.emit(e); err != nil {
				return err
			}
			continue
		}
		data, err := readLimited(tr, h.Size, w.opts.maxFileSize())
		if err != nil {
			e.Err = err
			if err := w.emit(e); err != nil {
				return err
			}
			return nil // the stream is broken past this point
		}
		e.data = data
		e.open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		if nested, err := w.maybeNested(e, depth); nested || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		e.open = nil
		if err := w.emit(e); err != nil {
			return err
		}
	}
}

// NewMemoryEntry returns an entry whose content is already in memory, for
// callers that have the bytes (benchmarks, tests, single files).
func NewMemoryEntry(path string, data []byte) *Entry {
	return &Entry{Path: path, Size: int64(len(data)), data: data, max: int64(len(data))}
}
