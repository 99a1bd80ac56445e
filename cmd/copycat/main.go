// Command copycat finds duplicate and copied images across image datasets.
//
// Each subcommand lives in its own file (cmd_scan.go, ...): it binds flags
// to an options struct, makes one library call, and prints the result.
// Errors become exit codes here, in one place.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/copycat-dev/copycat"
)

// Exit codes.
const (
	exitOK        = 0
	exitFailure   = 1 // the command could not do its work
	exitUsage     = 2 // bad command line
	exitInterrupt = 130
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stdoutFile     *os.File // for terminal detection; nil in tests
	getenv         func(string) string
}

var commands = map[string]command{
	"scan":     {"scan datasets (folders, zip, tar, tar.gz) into the index", runScan},
	"hash":     {"print perceptual hashes of image files (per frame)", runHash},
	"bench":    {"measure: bench scan DIR..., bench hash DIR, bench index, bench quality", runBench},
	"datasets": {"list the datasets in the index", runDatasets},
	"check":    {"verify the index is consistent (exit 1 if not)", runCheck},
	"forget":   {"remove datasets from the index", runForget},
	"query":    {"find an image's copies in the index", runQuery},
	"clusters": {"list groups of images that are copies of one another", runClusters},
	"lineage":  {"which dataset derives from which, how, leaks and licenses", runLineage},
	"report":   {"write the lineage, leaks and copies as HTML (a file, and pages of clusters beside it)", runReport},
	"export":   {"write the index's records and fingerprints as Parquet files", runExport},
	"import":   {"merge Parquet exports (of other indexes, or shards) into the index", runImport},
	"compact":  {"free the disk space that rescans and forget leave in the index", runCompact},
}

// usageError marks a bad command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// softMemoryLimit is the Go runtime's soft memory limit for every command
// unless GOMEMLIMIT sets another. Without one the heap may grow to twice
// what is live before a collection, and the pixels of the last large image
// are still garbage when the next one is decoded: four 64-100 megapixel
// PNGs took a scan to 543 MB of RSS, 309 MB with a limit of 300 MiB (the
// GC collects earlier near the limit, and never uses more than half the
// CPU for it when the live heap exceeds it). It does not cap memory that
// C codecs allocate.
const softMemoryLimit = 768 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdoutFile: os.Stdout, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "copycat: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "copycat %s: %v\n", args[0], err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(e.stderr, "copycat %s: interrupted\n", args[0])
		return exitInterrupt
	}
	fmt.Fprintf(e.stderr, "copycat %s: %v\n", args[0], err)
	return exitFailure
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: copycat <command> [flags] [args]")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'copycat <command> -h' for a command's flags.")
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("copycat scan data/ --json").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs parses flags for a command that takes no positional
// arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err == nil && len(rest) > 0 {
		err = usagef("unexpected argument %q", rest[0])
	}
	return err
}

// indexFlags are the flags every index command shares: where the index is
// and whether to wait for another process holding it.
type indexFlags struct {
	dir  *string
	wait *bool
	// minFree is --min-free, defined by the commands that write (scan).
	minFree *int64
	// scanJob is what scan opens the index for (copycat.Options.ScanJob).
	scanJob []copycat.Dataset
}

// addIndexFlag defines --index and --wait.
func addIndexFlag(fs *flag.FlagSet) *indexFlags {
	return &indexFlags{
		dir:  fs.String("index", "", "index folder (default $COPYCAT_INDEX or ./copycat-index)"),
		wait: fs.Bool("wait", false, "wait while another copycat process holds the index, instead of failing"),
	}
}

// path is the index folder the flags and environment name.
func (f *indexFlags) path(e *env) string { return indexDir(*f.dir, e) }

// open opens the index; with --wait it says once on stderr what it waits
// for.
func (f *indexFlags) open(ctx context.Context, e *env, readOnly bool) (*copycat.Index, error) {
	opts := f.options(e)
	opts.ReadOnly = readOnly
	return copycat.OpenContext(ctx, f.path(e), opts)
}

// options are the copycat.Options the flags ask for.
func (f *indexFlags) options(e *env) copycat.Options {
	opts := copycat.Options{Wait: *f.wait, ScanJob: f.scanJob,
		Waiting: func(le *copycat.LockedError) {
			fmt.Fprintf(e.stderr, "copycat: waiting for the copycat process holding %s (lock %s)...\n", le.Dir, le.LockFile)
		}}
	if f.minFree != nil {
		opts.MinFreeSpace = *f.minFree
	}
	return opts
}

// Where the index is when --index is not given: the environment variable
// first, then a folder in the working directory.
const (
	envIndex        = "COPYCAT_INDEX"
	defaultIndexDir = "copycat-index"
)

// indexDir resolves the index location: --index, then $COPYCAT_INDEX, then
// ./copycat-index.
func indexDir(flagValue string, e *env) string {
	if flagValue != "" {
		return flagValue
	}
	if v := strings.TrimSpace(e.getenv(envIndex)); v != "" {
		return v
	}
	return defaultIndexDir
}

func newFlagSet(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: copycat %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// framePath names one image of a file in text output: the path alone for a
// file's first (or only) frame, "#frame=N" after it for the others. Every
// command writes images this way; JSON has the frame as a field.
func framePath(path string, frame int) string {
	if frame > 0 {
		return fmt.Sprintf("%s#frame=%d", path, frame)
	}
	return path
}
