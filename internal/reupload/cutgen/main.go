// Command cutgen writes the cut of ch2better that package reupload ships
// (testdata/ch2better-cut.nii.gz): the 32 central axial planes with
// brain content, 1 mm apart (every other plane of the 0.5 mm volume), at
// full in-plane resolution, as uint8 NIfTI-1. Run it through `go generate`
// in internal/reupload (needs Debian's mricron-data).
//
//	go run ./cutgen -o testdata/ch2better-cut.nii.gz /usr/share/mricron/templates/ch2better.nii.gz
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/copycat-dev/copycat/internal/reupload"
)

func main() {
	out := flag.String("o", "testdata/ch2better-cut.nii.gz", "output file")
	n := flag.Int("n", 32, "planes to keep")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: cutgen [-o OUT] [-n N] ch2better.nii.gz")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "cutgen:", err)
		os.Exit(1)
	}
}

func run(in, out string, n int) error {
	v, err := reupload.ReadNIfTIFile(in)
	if err != nil {
		return err
	}
	zs := reupload.ContentSlices(v, 1)
	if len(zs) > n {
		o := (len(zs) - n) / 2
		zs = zs[o : o+n]
	}
	plane := v.NX * v.NY
	c := &reupload.Volume{NX: v.NX, NY: v.NY, NZ: len(zs), Spacing: [3]float64{v.Spacing[0], v.Spacing[1], 1}}
	for _, z := range zs {
		c.Data = append(c.Data, v.Data[z*plane:(z+1)*plane]...)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = reupload.WriteNIfTIUint8(w, c)
	return errors.Join(err, w.Flush(), f.Close())
}
