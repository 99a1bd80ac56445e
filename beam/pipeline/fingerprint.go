package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/interchange"
	"github.com/copycat-dev/copycat/scan"
)

// FingerprintOptions configure the fingerprint step.
type FingerprintOptions struct {
	// Datasets are the dataset roots (folders, zip, tar, tar.gz), each
	// walked by the workers of its shards.
	Datasets []scan.Dataset
	// Out is the folder the parts go to: one export folder per dataset
	// and shard, part-DDDD-SSSSS, which `copycat import OUT/part-*`
	// merges into an index.
	Out string
	// Shards is the number of parts each dataset is cut into
	// (scan.Shard: by a hash of dataset and path); 0 means 16. Every
	// shard's worker walks the whole dataset and decodes its part, so a
	// shard is the unit of parallel work.
	Shards int
	// Salt keys the patient-ID digests: the salt of the index the parts
	// will be imported into (index.Store.Salt); nil leaves them out.
	Salt []byte
	// PixelBudget refuses larger images, as scan.Options.PixelBudget.
	PixelBudget int64
}

// Part is a unit of the fingerprint step's work: one shard of one
// dataset, and the export folder it writes.
type Part struct {
	Dataset, Root string
	K, N          int
	Dir           string
	Salt          []byte
	PixelBudget   int64
}

// PartSummary is what one part wrote.
type PartSummary struct {
	Dir                     string
	Files, Images, Failures int
}

func init() {
	register.DoFn3x1[context.Context, Part, func(PartSummary), error](&fingerprintFn{})
	register.Emitter1[PartSummary]()
	beam.RegisterType(reflect.TypeOf((*Part)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*PartSummary)(nil)).Elem())
}

// Fingerprint adds the fingerprint step to s and returns the parts'
// summaries.
func Fingerprint(s beam.Scope, opts FingerprintOptions) beam.PCollection {
	s = s.Scope("fingerprint")
	n := opts.Shards
	if n <= 0 {
		n = 16
	}
	var parts []Part
	for di, d := range opts.Datasets {
		for k := 1; k <= n; k++ {
			parts = append(parts, Part{Dataset: d.Name, Root: d.Path, K: k, N: n,
				Dir:  filepath.Join(opts.Out, fmt.Sprintf("part-%04d-%05d", di, k)),
				Salt: opts.Salt, PixelBudget: opts.PixelBudget})
		}
	}
	return beam.ParDo(s, &fingerprintFn{}, beam.Reshuffle(s, beam.CreateList(s, parts)))
}

// fingerprintFn scans one part with the scan's own worker (scan.Records)
// and writes its records as an export folder. A retried part rewrites
// its folder from scratch: the records are the same.
type fingerprintFn struct{}

func (f *fingerprintFn) ProcessElement(ctx context.Context, p Part, emit func(PartSummary)) error {
	started := time.Now()
	d := interchange.DatasetRecords{Name: p.Dataset, Source: p.Root, Started: started}
	sum := PartSummary{Dir: p.Dir}
	err := scan.Records(ctx, scan.Dataset{Name: p.Dataset, Path: p.Root},
		scan.RecordOptions{Shard: scan.Shard{K: p.K, N: p.N}, Salt: p.Salt, PixelBudget: p.PixelBudget},
		func(r scan.FileRecords) error {
			d.Files = append(d.Files, interchange.FileRecords{File: r.File, Images: r.Images})
			if r.Document != nil {
				d.Documents = append(d.Documents, index.Document{Path: r.File.Path, Size: r.File.Size, Data: r.Document})
			}
			sum.Files++
			sum.Images += len(r.Images)
			if r.File.Failure != "" {
				sum.Failures++
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("fingerprint %s shard %d/%d: %w", p.Dataset, p.K, p.N, err)
	}
	d.Finished = time.Now()
	if err := os.RemoveAll(p.Dir); err != nil {
		return err
	}
	saltID := ""
	if p.Salt != nil {
		saltID = interchange.SaltID(p.Salt)
	}
	if _, err := interchange.WriteRecords(ctx, p.Dir, saltID, []interchange.DatasetRecords{d}); err != nil {
		return fmt.Errorf("fingerprint %s shard %d/%d: %w", p.Dataset, p.K, p.N, err)
	}
	emit(sum)
	return nil
}
