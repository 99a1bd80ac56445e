package main

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/copycat-dev/copycat"
)

func runHash(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "hash", "[--algo pdq|phash|dhash|ahash|all] FILE...")
	algo := fs.String("algo", "phash", "hash to print: pdq, phash, dhash, ahash or all")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch *algo {
	case "pdq", "phash", "dhash", "ahash", "all":
	default:
		return usagef("unknown --algo %q (want pdq, phash, dhash, ahash or all)", *algo)
	}
	if len(files) == 0 {
		fs.Usage()
		return usagef("no file given")
	}
	failed := 0
	err = copycat.HashFiles(ctx, files, func(h copycat.FrameHash) error {
		if h.Err != nil {
			failed++
			fmt.Fprintf(e.stderr, "copycat hash: %v\n", h.Err) // a *FileError: path and reason
			return nil
		}
		_, werr := fmt.Fprintln(e.stdout, hashLine(*algo, h))
		return werr
	})
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be hashed", failed, len(files))
	}
	return nil
}

// hashLine formats one frame: "<hex>\t<path>" with "#frame=N" after the
// path for frames after the first (framePath); pdq adds its quality as a
// third column; --algo all labels each hash, "phash=<hex>" and so on, one
// per column, before the path.
func hashLine(algo string, h copycat.FrameHash) string {
	fp := h.Fingerprint
	path := framePath(h.Path, h.Frame)
	hex64 := func(v uint64) string { return fmt.Sprintf("%016x", v) }
	pdq := hex.EncodeToString(fp.PDQ[:])
	switch algo {
	case "phash":
		return hex64(fp.PHash) + "\t" + path
	case "dhash":
		return hex64(fp.DHash) + "\t" + path
	case "ahash":
		return hex64(fp.AHash) + "\t" + path
	case "pdq":
		return fmt.Sprintf("%s\t%s\t%d", pdq, path, fp.PDQQuality)
	}
	return fmt.Sprintf("phash=%s\tdhash=%s\tahash=%s\tpdq=%s\tpdq_quality=%d\t%s", hex64(fp.PHash), hex64(fp.DHash), hex64(fp.AHash), pdq, fp.PDQQuality, path)
}
