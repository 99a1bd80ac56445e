package lineage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
	"github.com/copycat-dev/copycat/scan"
)

// needTools skips the test when a conversion tool is missing.
func needTools(tb testing.TB, tools ...string) {
	tb.Helper()
	for _, t := range tools {
		if t == "convert" {
			testkit.ImageMagick(tb)
			continue
		}
		if _, err := exec.LookPath(t); err != nil {
			tb.Skipf("%s not installed: %v", t, err)
		}
	}
}

// world is the state of one scenario: datasets built as folders under dir.
type world struct {
	tb     testing.TB
	dir    string
	root   string   // module root
	order  []string // dataset names in creation order
	gone   []string // datasets deleted after the scan
	images map[string][]string
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	return &world{tb: tb, dir: tb.TempDir(), root: testkit.ModuleRoot(tb), images: map[string][]string{}}
}

// sourceFiles returns the image files (relative paths) of a source: "demo"
// (testdata/demo/original of the module), "corpus:<dir>" (a folder of
// ../shared/corpus) or a dataset built earlier.
func (w *world) sourceFiles(src string) (dir string, files []string) {
	w.tb.Helper()
	switch {
	case src == "demo":
		dir = filepath.Join(w.root, "testdata", "demo", "original")
	case strings.HasPrefix(src, "corpus:"):
		dir = filepath.Join(testkit.Corpus(w.tb), strings.TrimPrefix(src, "corpus:"))
		if _, err := os.Stat(dir); err != nil {
			w.tb.Skipf("shared corpus folder not available (%v)", err)
		}
	default:
		dir = filepath.Join(w.dir, src)
		if _, ok := w.images[src]; !ok {
			w.tb.Fatalf("unknown dataset %q", src)
		}
		return dir, w.images[src]
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".dcm", ".png", ".jpg", ".jpeg":
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		w.tb.Fatal(err)
	}
	slices.Sort(files)
	return dir, files
}

// pick keeps the files whose base names are listed (all when none are).
func pick(files, names []string) []string {
	if len(names) == 0 {
		return files
	}
	var out []string
	for _, f := range files {
		if slices.Contains(names, filepath.Base(f)) {
			out = append(out, f)
		}
	}
	return out
}

// run executes one scenario command.
//
//	copy DST SRC [into=DIR] [FILE...]      copy image files unchanged
//	derive DST SRC OPS [into=DIR] [FILE...] convert each file: OPS is a comma list of
//	                                        png, jpeg=Q, resize=P%, size=WxH, flop, flip,
//	                                        rotate=D, depth8 (DICOMs are rendered by dcm2pnm first)
//	write DST PATH TEXT...                  write a document (\n in TEXT is a newline)
//	magick DST PATH BUILTIN [OPS...]       write one of ImageMagick's built-in images (rose:, logo: ...)
//	gone DST                               delete the dataset's folder once it is scanned
func (w *world) run(line string) {
	w.tb.Helper()
	f := strings.Fields(line)
	if len(f) == 2 && f[0] == "gone" {
		w.gone = append(w.gone, f[1])
		return
	}
	if len(f) < 3 {
		w.tb.Fatalf("bad command %q", line)
	}
	cmd, dst := f[0], f[1]
	if _, ok := w.images[dst]; !ok {
		w.order = append(w.order, dst)
		w.images[dst] = nil
		if err := os.MkdirAll(filepath.Join(w.dir, dst), 0o755); err != nil {
			w.tb.Fatal(err)
		}
	}
	switch cmd {
	case "write":
		text := strings.ReplaceAll(strings.Join(f[3:], " "), `\n`, "\n") + "\n"
		p := filepath.Join(w.dir, dst, f[2])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			w.tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			w.tb.Fatal(err)
		}
	case "magick":
		needTools(w.tb, "convert")
		if len(f) < 4 {
			w.tb.Fatalf("magick needs PATH and BUILTIN: %q", line)
		}
		out := filepath.Join(w.dir, dst, f[2])
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			w.tb.Fatal(err)
		}
		w.exec("convert", append(append([]string{f[3]}, f[4:]...), out)...)
		w.images[dst] = append(w.images[dst], f[2])
	case "copy", "derive":
		srcDir, files := w.sourceFiles(f[2])
		args := f[3:]
		ops := ""
		if cmd == "derive" {
			if len(args) == 0 {
				w.tb.Fatalf("derive needs OPS: %q", line)
			}
			ops, args = args[0], args[1:]
		}
		into := ""
		if len(args) > 0 && strings.HasPrefix(args[0], "into=") {
			into, args = strings.TrimPrefix(args[0], "into="), args[1:]
		}
		for _, rel := range pick(files, args) {
			in := filepath.Join(srcDir, filepath.FromSlash(rel))
			base := filepath.Base(rel)
			var out string
			if cmd == "copy" {
				out = filepath.Join(into, base)
				w.copyFile(in, filepath.Join(w.dir, dst, out))
			} else {
				out = w.derive(in, filepath.Join(w.dir, dst), into, strings.TrimSuffix(base, filepath.Ext(base)), ops)
			}
			w.images[dst] = append(w.images[dst], filepath.ToSlash(out))
		}
	default:
		w.tb.Fatalf("unknown command %q", cmd)
	}
}

func (w *world) copyFile(from, to string) {
	w.tb.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		w.tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		w.tb.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		w.tb.Fatal(err)
	}
}

// derive converts one file with DCMTK and ImageMagick and returns the
// output's path relative to the dataset.
func (w *world) derive(in, dsDir, into, stem, ops string) string {
	w.tb.Helper()
	needTools(w.tb, "convert", "dcmj2pnm")
	outDir := filepath.Join(dsDir, into)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		w.tb.Fatal(err)
	}
	tmp := w.tb.TempDir()
	src := in
	if strings.EqualFold(filepath.Ext(in), ".dcm") {
		// Render the first frame with the file's own window, as viewers and
		// many uploaders do, or with the op minmax from the frame's minimum
		// to its maximum, as export scripts do. Files without a stored
		// window are always rendered min-max.
		src = filepath.Join(tmp, "render.png")
		if slices.Contains(strings.Split(ops, ","), "minmax") || exec.Command("dcmj2pnm", "+on", "+Wi", "1", in, src).Run() != nil {
			w.exec("dcmj2pnm", "+on", "+Wm", in, src)
		}
	}
	ext := ".png"
	convArgs := []string{src}
	for _, op := range strings.Split(ops, ",") {
		name, val, _ := strings.Cut(op, "=")
		switch name {
		case "png", "minmax":
		case "jpeg":
			ext = ".jpg"
			convArgs = append(convArgs, "-quality", val)
		case "resize":
			convArgs = append(convArgs, "-resize", val)
		case "size":
			convArgs = append(convArgs, "-resize", val+"!")
		case "flop", "flip":
			convArgs = append(convArgs, "-"+name)
		case "rotate":
			convArgs = append(convArgs, "-rotate", val)
		case "depth8":
			convArgs = append(convArgs, "-depth", "8")
		default:
			w.tb.Fatalf("unknown op %q", op)
		}
	}
	out := filepath.Join(outDir, stem+ext)
	// No timestamps in PNG output: two renders of the same pixels are
	// then the same file whether or not a second passed between them.
	convArgs = append(convArgs, "-define", "png:exclude-chunk=date,time")
	w.exec("convert", append(convArgs, out)...)
	rel, err := filepath.Rel(dsDir, out)
	if err != nil {
		w.tb.Fatal(err)
	}
	return rel
}

func (w *world) exec(name string, args ...string) {
	w.tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		w.tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// scanAll indexes every dataset of the world and returns the open index.
func (w *world) scanAll(ctx context.Context) *index.Store {
	w.tb.Helper()
	idx := filepath.Join(w.dir, ".index")
	var ds []scan.Dataset
	for _, name := range w.order {
		ds = append(ds, scan.Dataset{Name: name, Path: filepath.Join(w.dir, name)})
	}
	st, err := index.Open(idx, index.Options{})
	if err != nil {
		w.tb.Fatal(err)
	}
	w.tb.Cleanup(func() { st.Close() })
	if _, err := scan.Run(ctx, st, scan.Options{Workers: 2}, ds); err != nil {
		w.tb.Fatalf("scan: %v", err)
	}
	for _, name := range w.gone {
		if err := os.RemoveAll(filepath.Join(w.dir, name)); err != nil {
			w.tb.Fatal(err)
		}
	}
	return st
}

// output renders a report for the golden files: the text summary with the
// temporary folder replaced.
func (w *world) output(rep *Report) string {
	w.tb.Helper()
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		w.tb.Fatal(err)
	}
	return strings.ReplaceAll(buf.String(), w.dir, "$WORLD")
}

// TestScenarios runs each script of testdata/scenarios: the commands above
// the "----" line build datasets, which are scanned and analysed; the text
// report must equal what follows the line (rewritten with -update).
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			script, want, _ := strings.Cut(string(data), "----\n")
			w := newWorld(t)
			for _, line := range strings.Split(script, "\n") {
				if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				w.run(line)
			}
			ctx := context.Background()
			st := w.scanAll(ctx)
			rep, err := Analyze(ctx, st, Options{MaxDistance: -1})
			if err != nil {
				t.Fatal(err)
			}
			got := w.output(rep)
			if testkit.Update() {
				if err := os.WriteFile(file, []byte(script+"----\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("report differs (run with -update to accept)\n%s", testkit.Diff(want, got))
			}
		})
	}
}
