package copycat_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/copycat-dev/copycat"

// layers ranks the module's packages: a package imports only packages of
// a lower rank (and its own internal packages), so the pipeline's
// dependencies point one way, from the command down to the hash. Two
// packages of one rank do not import each other. A package missing here
// fails the test: place it when adding it.
var layers = []struct {
	rank     int
	prefixes []string // a package path, or a path ending in "/..." for a subtree
}{
	{8, []string{"cmd/..."}},
	{7, []string{"bench", "internal/reupload/cutgen"}}, // measurement, and a generator's command
	{6, []string{""}},                                  // the public package
	{6, []string{"internal/..."}},                      // generators and test helpers, for tests and bench
	{5, []string{"scan", "lineage", "interchange"}},    // the analyses: the pipeline, dataset lineage; Parquet export and import
	{4, []string{"index"}},                             // the store, the search, the clusters
	{3, []string{"match"}},                             // the rule for copies
	{2, []string{"ingest", "ingest/..."}},              // walking and decoding
	{1, []string{"hash"}},                              // fingerprints
	{0, []string{"internal/testkit"}},                  // test helpers: import nothing of ours
}

// forbidden lists imports that only some packages may use.
var forbidden = []struct {
	importPrefix string
	allowed      []string // package paths (relative to the module) that may import it
	why          string
}{
	{"github.com/dgraph-io/badger", []string{"index"}, "only index touches the store"},
	{"github.com/parquet-go/parquet-go", []string{"interchange"}, "only interchange reads and writes Parquet"},
}

// noIO lists the packages that do no I/O, and the imports that would.
var noIO = []string{"hash", "match"}
var ioImports = []string{"os", "os/exec", "os/signal", "io/fs", "io/ioutil", "net", "net/http", "path/filepath", "syscall", "embed"}

// cmdOnly is what the command may import of the module: the public package,
// and bench for `copycat bench` (a measurement harness, not library API).
var cmdOnly = []string{"", "bench"}

type goPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// rankOf returns the rank of a package path relative to the module: the
// most specific entry of layers wins.
func rankOf(rel string) (int, bool) {
	best, bestLen, found := 0, -1, false
	for _, l := range layers {
		for _, p := range l.prefixes {
			n := -1
			switch {
			case strings.HasSuffix(p, "/..."):
				root := strings.TrimSuffix(p, "/...")
				if rel == root || strings.HasPrefix(rel, root+"/") {
					n = len(root)
				}
			case rel == p:
				n = len(p) + 1 // an exact entry beats a subtree of the same path
			}
			if n > bestLen {
				best, bestLen, found = l.rank, n, true
			}
		}
	}
	return best, found
}

// ownInternal reports whether imp is inside an internal folder of pkg's
// own subtree (Go's rule makes those private to it).
func ownInternal(pkg, imp string) bool {
	i := strings.LastIndex(imp, "/internal/")
	if i < 0 {
		return false
	}
	parent := imp[:i]
	return pkg == parent || strings.HasPrefix(pkg, parent+"/")
}

// importAllowed applies the layering to one import between two packages
// of the module (paths relative to it).
func importAllowed(from, to string) (bool, string) {
	fr, ok := rankOf(from)
	if !ok {
		return false, "the importer has no layer"
	}
	tr, ok := rankOf(to)
	if !ok {
		return false, "the imported package has no layer"
	}
	if ownInternal(from, to) {
		return true, ""
	}
	if tr >= fr {
		return false, fmt.Sprintf("layer %d imports layer %d: imports must point down", fr, tr)
	}
	return true, ""
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to list the packages")
	}
	out, err := exec.Command(goTool, "list", "-json", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}

func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// TestImportRules enforces the layering, in the way restic's depguard
// configuration does: imports point down, only index imports Badger, hash
// and match do no I/O, and the command uses the public package.
func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		pkg, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		if _, ok := rankOf(pkg); !ok {
			t.Errorf("package %s has no layer: add it to layers in layers_test.go", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if r, ours := rel(imp); ours {
				if ok, why := importAllowed(pkg, r); !ok {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, why)
				}
				if strings.HasPrefix(pkg, "cmd/") && !slices.Contains(cmdOnly, r) {
					t.Errorf("%s imports %s: the command uses the public package (and bench) only", p.ImportPath, imp)
				}
			}
			if slices.Contains(noIO, pkg) && slices.Contains(ioImports, imp) {
				t.Errorf("%s imports %s: it does no I/O", p.ImportPath, imp)
			}
		}
		all := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		for _, f := range forbidden {
			if slices.Contains(f.allowed, pkg) {
				continue
			}
			for _, imp := range all {
				if strings.HasPrefix(imp, f.importPrefix) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, f.why)
				}
			}
		}
	}
}

// TestImportRulesCatch checks that the rules above reject what they
// should, so that TestImportRules cannot pass by matching nothing.
func TestImportRulesCatch(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"hash", "index", false},
		{"index", "scan", false},
		{"scan", "lineage", false},
		{"lineage", "scan", false},
		{"index", "", false},
		{"ingest", "match", false},
		{"", "internal/reupload", false},
		{"internal/testkit", "hash", false},
		{"newpackage", "hash", false},
		{"", "scan", true},
		{"scan", "index", true},
		{"index", "hash", true},
		{"ingest", "hash", true},
		{"bench", "internal/reupload", true},
		{"ingest", "ingest/internal/dicom", true},
		{"ingest/internal/dicom", "ingest/internal/codec", true},
	}
	for _, tt := range tests {
		if got, why := importAllowed(tt.from, tt.to); got != tt.want {
			t.Errorf("import %q -> %q allowed = %v (%s), want %v", tt.from, tt.to, got, why, tt.want)
		}
	}
}
