package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/scan"
)

// tmpfs is a small file system mounted for one test.
type tmpfs struct{ dir string }

// mountTmpfs mounts a tmpfs of size bytes on a fresh folder and unmounts
// it when the test ends, whatever happens. It skips the test where it
// cannot mount (not root, or a container without the capability).
func mountTmpfs(tb testing.TB, size int64) *tmpfs {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("mounting a tmpfs needs root (CI runs the tests as root)")
	}
	dir := tb.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, sizeOpt(size)); err != nil {
		tb.Skipf("cannot mount a tmpfs on %s here: %v", dir, err)
	}
	// Registered after TempDir's, so it runs before the folder is removed.
	tb.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
			tb.Errorf("unmount %s: %v (detached instead)", dir, err)
		}
	})
	return &tmpfs{dir: dir}
}

func sizeOpt(size int64) string { return fmt.Sprintf("size=%dk", size>>10) }

// resize grows (or shrinks) the file system.
func (m *tmpfs) resize(tb testing.TB, size int64) {
	tb.Helper()
	if err := syscall.Mount("tmpfs", m.dir, "tmpfs", syscall.MS_REMOUNT, sizeOpt(size)); err != nil {
		tb.Fatalf("remount %s %s: %v", m.dir, sizeOpt(size), err)
	}
}

// used is how many bytes the file system holds.
func (m *tmpfs) used(tb testing.TB) uint64 {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.dir, &st); err != nil {
		tb.Fatal(err)
	}
	return (st.Blocks - st.Bfree) * uint64(st.Bsize)
}

// readOnly remounts the file system read-only.
func (m *tmpfs) readOnly(tb testing.TB) {
	tb.Helper()
	if err := syscall.Mount("tmpfs", m.dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		tb.Fatalf("remount %s read-only: %v", m.dir, err)
	}
}

// TestFaultFullDisk fills the index's device: before the scan, during the
// first scan of an index, and during a second dataset's scan into an
// index that holds a first one. Each time copycat must stop with exit 1
// and a message that names the index and says "no space left on device"
// (not die with a stack trace, which is what Badger's memory-mapped writes
// do on a full device: see scan.MinFreeSpace); the index must then open,
// keep what it held, and once there is room a rerun must finish with the
// same images as a scan into a fresh index.
func TestFaultFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs the tests as root)")
	}
	bin := testBinary(t)
	data := t.TempDir()
	small := filepath.Join(data, "small")
	writePNGs(t, small, 0, 20)
	// 1100 images make about 1.5 MB of index. The scan commits every 512
	// files (index.Options.BatchFiles) or 2 s, and a commit first waits
	// for the one before to be written; the free space is checked before
	// each file. So by file 1025 at the latest the scan sees the first
	// batch's 700 KB gone, and stops, whatever the machine's speed.
	const bigImages = 1100
	big := filepath.Join(data, "big")
	writePNGs(t, big, 1000, bigImages)

	t.Run("before the scan", func(t *testing.T) {
		// Too small for the index: without the check before the scan,
		// copycat dies of SIGBUS here.
		m := mountTmpfs(t, 512<<10)
		idx := filepath.Join(m.dir, "idx")
		p := copycatProc(t, bin, nil, "scan", "--index", idx, big)
		wantFailure(t, p, idx, "no space left on device")
		if _, err := os.Stat(idx); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the refused scan created %s (stat: %v)", idx, err)
		}
	})

	if raceEnabled {
		t.Skip("the scans that fill the disk take a minute under -race; make test runs them in its plain pass")
	}
	fresh := filepath.Join(t.TempDir(), "idx")
	p := copycatProc(t, bin, nil, "scan", "--json", "--index", fresh, big)
	wantOK(t, p, "fresh scan")
	if n := decodeJSON[scanOutput](t, "fresh scan", p.stdout).Datasets[0].Images; n != bigImages {
		t.Fatalf("fresh scan: %d images, want %d", n, bigImages)
	}
	// Room for the fixed 128 MiB floor (--min-free, so that the scan starts
	// and then meets the floor mid-way) plus 256 KB: the 20 small images
	// fit, the big dataset does not.
	const tight = scan.MinFreeSpace + 256<<10
	const roomy = scan.MinFreeSpace + 64<<20

	t.Run("during the first scan", func(t *testing.T) {
		m := mountTmpfs(t, tight)
		idx := filepath.Join(m.dir, "idx")
		p := copycatProc(t, bin, nil, "scan", "--json", "--index", idx, "--min-free", fmt.Sprint(scan.MinFreeSpace), big)
		wantFailure(t, p, idx, "no space left on device")
		if d := decodeJSON[scanOutput](t, "full scan", p.stdout).Datasets; len(d) != 1 || d[0].Files >= bigImages {
			t.Errorf("the summary of the stopped scan should show part of the dataset:\n%s", p.stdout)
		}
		wantConsistent(t, idx)
		m.resize(t, roomy)
		if got, want := datasetCounts(t, bin, nil, idx), []string{"big images=0 complete=false"}; !equal(got, want) {
			t.Errorf("datasets after the full disk: %v, want %v", got, want)
		}
		rerun(t, bin, idx, big, bigImages)
		if got, want := datasetCounts(t, bin, nil, idx), []string{fmt.Sprintf("big images=%d complete=true", bigImages)}; !equal(got, want) {
			t.Errorf("datasets after the rerun: %v, want %v", got, want)
		}
	})

	t.Run("during a second dataset", func(t *testing.T) {
		m := mountTmpfs(t, tight)
		idx := filepath.Join(m.dir, "idx")
		wantOK(t, copycatProc(t, bin, nil, "scan", "--index", idx, small), "first dataset")
		p := copycatProc(t, bin, nil, "scan", "--index", idx, "--min-free", fmt.Sprint(scan.MinFreeSpace), big)
		wantFailure(t, p, idx, "no space left on device")
		want := []string{"big images=0 complete=false", "small images=20 complete=true"}
		if got := datasetCounts(t, bin, nil, idx); !equal(got, want) {
			t.Errorf("datasets after the full disk: %v, want %v", got, want)
		}
		wantIdentical(t, bin, nil, idx, filepath.Join(small, "img00007.png"), "small", "img00007.png")
		wantConsistent(t, idx)
		m.resize(t, roomy)
		rerun(t, bin, idx, big, bigImages)
		want = []string{fmt.Sprintf("big images=%d complete=true", bigImages), "small images=20 complete=true"}
		if got := datasetCounts(t, bin, nil, idx); !equal(got, want) {
			t.Errorf("datasets after the rerun: %v, want %v", got, want)
		}
	})
}

// wantConsistent checks every invariant of the index (index.Store.Check):
// a scan that stopped must leave it consistent, not just openable.
func wantConsistent(tb testing.TB, dir string) {
	tb.Helper()
	st, err := index.Open(dir, index.Options{ReadOnly: true})
	if err != nil {
		tb.Fatalf("open the index after the full disk: %v", err)
	}
	defer st.Close()
	rep, err := st.Check(context.Background())
	if err != nil {
		tb.Fatalf("check the index: %v", err)
	}
	if !rep.OK() {
		tb.Errorf("index inconsistent after the full disk:\n%s", strings.Join(rep.Problems, "\n"))
	}
}

// rerun scans ds again after a scan that stopped: it must finish with
// every image, keeping what the stopped scan wrote.
func rerun(tb testing.TB, bin, idx, ds string, images int) {
	tb.Helper()
	p := copycatProc(tb, bin, nil, "scan", "--json", "--index", idx, ds)
	wantOK(tb, p, "rerun")
	d := decodeJSON[scanOutput](tb, "rerun", p.stdout).Datasets[0]
	if d.Images != images || d.Files != images {
		tb.Errorf("rerun: %d files, %d images; want %d as in a fresh index", d.Files, d.Images, images)
	}
	if d.Unchanged == 0 {
		tb.Errorf("rerun: nothing unchanged: the stopped scan's work was lost")
	}
}

// TestFaultReadOnlyIndex puts an index on a file system remounted
// read-only: a scan fails at once saying so, and the read commands work.
func TestFaultReadOnlyIndex(t *testing.T) {
	bin := testBinary(t)
	m := mountTmpfs(t, scan.MinFreeSpace+16<<20)
	ds := filepath.Join(t.TempDir(), "ds")
	writePNGs(t, ds, 0, 10)
	// A copy, so that clusters has something to find.
	b, err := os.ReadFile(filepath.Join(ds, "img00002.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ds, "copy-of-2.png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	idx := filepath.Join(m.dir, "idx")
	wantOK(t, copycatProc(t, bin, nil, "scan", "--index", idx, ds), "scan")
	m.readOnly(t)

	for _, dir := range []string{idx, filepath.Join(m.dir, "new-idx")} {
		p := copycatProc(t, bin, nil, "scan", "--index", dir, ds)
		wantFailure(t, p, dir, "not writable", "read-only file system")
		if p.stdout != "" {
			t.Errorf("the refused scan printed a summary:\n%s", p.stdout)
		}
	}
	if got, want := datasetCounts(t, bin, nil, idx), []string{"ds images=11 complete=true"}; !equal(got, want) {
		t.Errorf("datasets %v, want %v", got, want)
	}
	wantIdentical(t, bin, nil, idx, filepath.Join(ds, "img00002.png"), "ds", "copy-of-2.png")
	p := copycatProc(t, bin, nil, "clusters", "--json", "--index", idx)
	wantOK(t, p, "clusters")
	if !strings.Contains(p.stdout, "copy-of-2.png") || !strings.Contains(p.stdout, "img00002.png") {
		t.Errorf("clusters does not group the copy:\n%s", p.stdout)
	}
	wantOK(t, copycatProc(t, bin, nil, "lineage", "--index", idx), "lineage")
}

// TestFreeSpaceFloor checks the floor a scan keeps on the index's device
// when it is not given: what the job may still write, so that a small job
// runs where the fixed 128 MiB floor refused it, and a device sized to the
// job's floor holds the whole scan (the floor shrinks as the job goes, and
// Badger never meets a full device). --min-free overrides it.
func TestFreeSpaceFloor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs the tests as root)")
	}
	bin := testBinary(t)
	data := t.TempDir()
	small := filepath.Join(data, "small")
	writePNGs(t, small, 0, 20)

	t.Run("small job on a small device", func(t *testing.T) {
		m := mountTmpfs(t, 48<<20)
		idx := filepath.Join(m.dir, "idx")
		wantFailure(t, copycatProc(t, bin, nil, "scan", "--index", idx, "--min-free", fmt.Sprint(scan.MinFreeSpace), small), idx, "no space left on device")
		wantOK(t, copycatProc(t, bin, nil, "scan", "--index", idx, small), "scan of a small job")
		wantOK(t, copycatProc(t, bin, nil, "scan", "--index", idx, small), "rescan of a small job")
		if got, want := datasetCounts(t, bin, nil, idx), []string{"small images=20 complete=true"}; !equal(got, want) {
			t.Errorf("datasets: %v, want %v", got, want)
		}
	})

	if raceEnabled {
		t.Skip("the scan of 1100 images takes a minute under -race; make test runs it in its plain pass")
	}
	const bigImages = 1100
	big := filepath.Join(data, "big")
	writePNGs(t, big, 1000, bigImages)
	need := scan.JobFloor(context.Background(), []scan.Dataset{{Name: "big", Path: big}}, 0).Need()
	t.Logf("the floor of %d images: %.1f MB", bigImages, float64(need)/(1<<20))
	if need >= scan.MinFreeSpace {
		t.Fatalf("the floor of %d small PNGs is %d bytes, not below MinFreeSpace", bigImages, need)
	}

	t.Run("device just under the job's floor", func(t *testing.T) {
		m := mountTmpfs(t, int64(need)-1<<20)
		idx := filepath.Join(m.dir, "idx")
		wantFailure(t, copycatProc(t, bin, nil, "scan", "--index", idx, big), idx, "no space left on device")
		if _, err := os.Stat(idx); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the refused scan created %s (stat: %v)", idx, err)
		}
	})

	t.Run("device the size of the job's floor", func(t *testing.T) {
		m := mountTmpfs(t, int64(need)+4<<10) // tmpfs counts whole pages
		idx := filepath.Join(m.dir, "idx")
		p := copycatProc(t, bin, nil, "scan", "--json", "--index", idx, big)
		wantOK(t, p, "scan on a device the size of its floor")
		if n := decodeJSON[scanOutput](t, "scan", p.stdout).Datasets[0].Images; n != bigImages {
			t.Errorf("%d images, want %d", n, bigImages)
		}
		used := m.used(t)
		t.Logf("index after the scan: %.1f MB of the %.1f MB device", float64(used)/(1<<20), float64(need)/(1<<20))
		wantConsistent(t, idx)
	})
}
