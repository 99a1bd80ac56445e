// Command copycat-beam runs copycat's scan and pair search as Apache Beam
// pipelines: in-process on Prism (the default), or on Flink, Spark or
// Dataflow through Beam's runners (see the README, "Past one machine").
//
//	copycat-beam fingerprint [--index DIR] [--shards N] --out DIR [NAME=]PATH...
//	copycat-beam pairs [--max-distance D] [--no-transforms] [--hot-key N] [--prefix-bits B] --out DIR EXPORT...
//
// fingerprint writes one export folder per dataset and shard under --out,
// for `copycat import OUT/part-*`; pairs reads export folders (copycat
// export --parquet, or fingerprint's parts) and writes the verified
// pairs as pairs-NNNNN.parquet under --out, for `copycat import --pairs`.
// Beam's own flags (--runner, --endpoint, --project...) are accepted
// beside these.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/copycat-dev/copycat"
	"github.com/copycat-dev/copycat/beam/pipeline"
)

var (
	out          = flag.String("out", "", "output folder (required)")
	indexDir     = flag.String("index", "", "fingerprint: the copycat index the parts will be imported into, for its salt (patient-ID digests); none leaves them out")
	shards       = flag.Int("shards", 16, "fingerprint: parts per dataset, the unit of parallel work")
	maxDistance  = flag.Int("max-distance", -1, "pairs: pHash distance of the search (-1: copycat's default, 8)")
	noTransforms = flag.Bool("no-transforms", false, "pairs: leave rotated and mirrored copies out")
	hotKey       = flag.Int("hot-key", pipeline.DefaultHotKey, "pairs: join groups larger than this are split into cells")
	prefixBits   = flag.Int("prefix-bits", pipeline.DefaultPrefixBits, "pairs: bits of a chunk value that make a join group (more: more, smaller groups, more records)")
)

const usage = `usage:
  copycat-beam fingerprint [--index DIR] [--shards N] --out DIR [NAME=]PATH...
  copycat-beam pairs [--max-distance D] [--no-transforms] [--hot-key N] [--prefix-bits B] --out DIR EXPORT...
Beam flags: --runner=prism (default) | flink | dataflow | universal, --endpoint, ...`

func main() {
	// A worker started by a remote runner gets only Beam's flags.
	cmd := ""
	if len(os.Args) > 1 && (os.Args[1] == "fingerprint" || os.Args[1] == "pairs") {
		cmd = os.Args[1]
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	flag.Usage = func() { fmt.Fprintln(os.Stderr, usage); flag.PrintDefaults() }
	flag.Parse()
	beam.Init()
	if err := run(context.Background(), cmd, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "copycat-beam:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	if cmd == "" || *out == "" || len(args) == 0 {
		flag.Usage()
		return fmt.Errorf("want a subcommand, --out and inputs")
	}
	out, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	switch cmd {
	case "fingerprint":
		opts := pipeline.FingerprintOptions{Out: out, Shards: *shards}
		for _, a := range args {
			d := copycat.ParseDataset(a)
			if d.Path, err = filepath.Abs(d.Path); err != nil {
				return err
			}
			opts.Datasets = append(opts.Datasets, d)
		}
		if *indexDir != "" {
			if opts.Salt, err = pipeline.IndexSalt(ctx, *indexDir); err != nil {
				return err
			}
		}
		pipeline.Fingerprint(s, opts)
	case "pairs":
		opts := pipeline.PairsOptions{Out: out, MaxDistance: *maxDistance, NoTransforms: *noTransforms,
			HotKey: *hotKey, PrefixBits: *prefixBits}
		for _, a := range args {
			d, err := filepath.Abs(a)
			if err != nil {
				return err
			}
			opts.Exports = append(opts.Exports, d)
		}
		pipeline.Pairs(s, opts)
	}
	return beamx.Run(ctx, p)
}
