package interchange

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/copycat-dev/copycat/index"
	"github.com/copycat-dev/copycat/internal/testkit"
)

// seed is a real export: `copycat scan testdata/demo/upload.zip`, then
// `copycat export --parquet interchange/testdata/upload` (one dataset, 4
// files, 3 images with previews, its README.md as a document).
const seed = "testdata/upload"

// readTable reads every row of a table of an export.
func readTable[T any](tb testing.TB, dir, name string) []T {
	tb.Helper()
	ex := &export{dir: dir}
	defer ex.close()
	rr, _, err := openTable[T](ex, name)
	if err != nil {
		tb.Fatal(err)
	}
	var out []T
	for {
		r, ok, err := rr.next()
		if err != nil {
			tb.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

// writeTable writes rows as table name of dir with the given metadata.
func writeTable[T any](tb testing.TB, dir, name string, rows []T, meta map[string]string) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, name+".parquet"))
	if err != nil {
		tb.Fatal(err)
	}
	var opts []parquet.WriterOption
	for k, v := range meta {
		opts = append(opts, parquet.KeyValueMetadata(k, v))
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func openStore(tb testing.TB) *index.Store {
	tb.Helper()
	st, err := index.Open(filepath.Join(tb.TempDir(), "idx"), index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// TestRoundTrip imports the seed export and exports it again: the files
// and images tables come out as they went in.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	sum, err := Import(ctx, st, []string{seed})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 4 || sum.Images != 3 || sum.Datasets != 1 {
		t.Errorf("import summary %+v, want 1 dataset, 4 files, 3 images", sum)
	}
	out := filepath.Join(t.TempDir(), "again")
	esum, err := Export(ctx, st, out)
	if err != nil {
		t.Fatal(err)
	}
	if esum.Files != 4 || esum.Images != 3 || esum.Datasets != 1 || esum.Bytes == 0 {
		t.Errorf("export summary %+v", esum)
	}
	if got, want := readTable[File](t, out, TableFiles), readTable[File](t, seed, TableFiles); !reflect.DeepEqual(got, want) {
		t.Errorf("files differ:\n got %+v\nwant %+v", got, want)
	}
	got, want := readTable[Image](t, out, TableImages), readTable[Image](t, seed, TableImages)
	for i := range want {
		// Another salt: Import dropped the digests.
		want[i].PatientIDDigest = ""
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("images differ")
	}
	gd, wd := readTable[Dataset](t, out, TableDatasets), readTable[Dataset](t, seed, TableDatasets)
	if len(gd) != 1 || gd[0].Dataset != wd[0].Dataset || gd[0].Source != wd[0].Source || gd[0].Files != wd[0].Files || gd[0].Images != wd[0].Images ||
		!gd[0].Complete || gd[0].DocumentsRecorded != wd[0].DocumentsRecorded {
		t.Errorf("datasets: got %+v, want %+v", gd, wd)
	}
	for _, im := range want {
		if len(im.Preview) == 0 {
			t.Errorf("seed image %s has no preview: refresh the seed export", im.Path)
		}
	}
	if got, want := readTable[Document](t, out, TableDocuments), readTable[Document](t, seed, TableDocuments); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Errorf("documents differ or none in the seed:\n got %+v\nwant %+v", got, want)
	}
}

// TestImportRejects damages the seed export in the ways a bad or hostile
// file can be damaged: each import fails with the right error and
// writes nothing out of range.
func TestImportRejects(t *testing.T) {
	files := readTable[File](t, seed, TableFiles)
	images := readTable[Image](t, seed, TableImages)
	meta := func(table string) map[string]string {
		return map[string]string{KeySchemaVersion: strconv.Itoa(SchemaVersion), KeyTable: table, KeySaltID: "0123456789abcdef"}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   error
	}{
		{"truncated images", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "images.parquet")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, ErrFormat},
		{"images file is not parquet", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "images.parquet"), []byte("PAR1 not parquet at all PAR1"), 0o644)
		}, ErrFormat},
		{"a newer schema version", func(t *testing.T, dir string) {
			m := meta(TableFiles)
			m[KeySchemaVersion] = strconv.Itoa(SchemaVersion + 1)
			writeTable(t, dir, TableFiles, files, m)
		}, ErrVersion},
		{"other columns", func(t *testing.T, dir string) {
			type other struct {
				Dataset string `parquet:"dataset"`
				Path    string `parquet:"path"`
			}
			writeTable(t, dir, TableFiles, []other{{"upload", "x"}}, meta(TableFiles))
		}, ErrFormat},
		{"files out of order", func(t *testing.T, dir string) {
			rows := append([]File(nil), files...)
			rows[0], rows[1] = rows[1], rows[0]
			writeTable(t, dir, TableFiles, rows, meta(TableFiles))
		}, ErrFormat},
		{"a file of no dataset", func(t *testing.T, dir string) {
			rows := append(append([]File(nil), files...), File{Dataset: "zzz", Path: "a.png"})
			writeTable(t, dir, TableFiles, rows, meta(TableFiles))
		}, ErrFormat},
		{"an image of no file", func(t *testing.T, dir string) {
			rows := append([]Image(nil), images...)
			rows[0].Path = "nowhere.png"
			writeTable(t, dir, TableImages, rows, meta(TableImages))
		}, ErrFormat},
		{"a short dihedral list", func(t *testing.T, dir string) {
			rows := append([]Image(nil), images...)
			rows[1].Fingerprint.Dihedral = rows[1].Fingerprint.Dihedral[:3]
			writeTable(t, dir, TableImages, rows, meta(TableImages))
		}, ErrFormat},
		{"bits out of range", func(t *testing.T, dir string) {
			rows := append([]Image(nil), images...)
			rows[2].Bits = 1000
			writeTable(t, dir, TableImages, rows, meta(TableImages))
		}, ErrFormat},
		{"negative frames", func(t *testing.T, dir string) {
			rows := append([]File(nil), files...)
			rows[0].Frames = -1
			writeTable(t, dir, TableFiles, rows, meta(TableFiles))
		}, ErrFormat},
		{"tables of two indexes", func(t *testing.T, dir string) {
			m := meta(TableDatasets)
			m[KeySaltID] = "another"
			writeTable(t, dir, TableDatasets, readTable[Dataset](t, seed, TableDatasets), m)
		}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ex")
			testkit.CopyTree(t, seed, dir)
			// The tables the damage leaves alone get the test's salt id.
			writeTable(t, dir, TableDatasets, readTable[Dataset](t, seed, TableDatasets), meta(TableDatasets))
			writeTable(t, dir, TableFiles, files, meta(TableFiles))
			writeTable(t, dir, TableImages, images, meta(TableImages))
			tt.damage(t, dir)
			st := openStore(t)
			_, err := Import(context.Background(), st, []string{dir})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			rep, err := st.Check(context.Background())
			if err != nil || !rep.OK() {
				t.Errorf("index inconsistent after a refused import: %v %v", err, rep.Problems)
			}
		})
	}
}

// FuzzReadTable feeds arbitrary bytes to the table readers and the record
// checks Import uses: bad files give errors, never panics.
func FuzzReadTable(f *testing.F) {
	for _, name := range []string{TableDatasets, TableFiles, TableImages, TableDocuments} {
		b, err := os.ReadFile(filepath.Join(seed, name+".parquet"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, name := range []string{TableDatasets, TableFiles, TableImages, TableDocuments} {
			if err := os.WriteFile(filepath.Join(dir, name+".parquet"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		drain[Dataset](t, dir, TableDatasets, func(*Dataset) {})
		drain[Document](t, dir, TableDocuments, func(*Document) {})
		drain[File](t, dir, TableFiles, func(r *File) {
			f := r.record()
			_ = index.CheckRecord(&f, nil)
		})
		drain[Image](t, dir, TableImages, func(r *Image) {
			if im, ok := r.record(); ok {
				f := index.File{Path: im.Path}
				_ = index.CheckRecord(&f, []index.Image{im})
			}
		})
	})
}

// drain reads a table to its end or first error, at most 10,000 rows.
func drain[T any](t *testing.T, dir, name string, fn func(*T)) {
	ex := &export{dir: dir}
	defer ex.close()
	rr, _, err := openTable[T](ex, name)
	if err != nil {
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrVersion) {
			t.Fatalf("open: error %v matches neither ErrFormat nor ErrVersion", err)
		}
		return
	}
	for range 10000 {
		r, ok, err := rr.next()
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("read: error %v does not match ErrFormat", err)
			}
			return
		}
		if !ok {
			return
		}
		fn(&r)
	}
}

// TestImportIncomplete imports an export of an interrupted scan: the
// dataset stays incomplete in the union, and a later complete import of
// the same dataset does not make it complete.
func TestImportIncomplete(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ex")
	testkit.CopyTree(t, seed, dir)
	ds := readTable[Dataset](t, seed, TableDatasets)
	ds[0].Complete = false
	salt := map[string]string{KeySchemaVersion: strconv.Itoa(SchemaVersion), KeySaltID: "x"}
	for name, write := range map[string]func(map[string]string){
		TableDatasets: func(m map[string]string) { writeTable(t, dir, TableDatasets, ds, m) },
		TableFiles:    func(m map[string]string) { writeTable(t, dir, TableFiles, readTable[File](t, seed, TableFiles), m) },
		TableImages:   func(m map[string]string) { writeTable(t, dir, TableImages, readTable[Image](t, seed, TableImages), m) },
		TableDocuments: func(m map[string]string) {
			writeTable(t, dir, TableDocuments, readTable[Document](t, seed, TableDocuments), m)
		},
	} {
		salt[KeyTable] = name
		write(salt)
	}
	st := openStore(t)
	for _, exp := range []string{dir, seed} {
		if _, err := Import(ctx, st, []string{exp}); err != nil {
			t.Fatal(err)
		}
		infos, err := st.Datasets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Complete || infos[0].Files != 4 || infos[0].Images != 3 {
			t.Errorf("after importing %s: %+v, want upload incomplete with 4 files and 3 images", exp, infos)
		}
	}
}

// TestVolumeRow converts a NIfTI slice's record to a row and back: the
// volume, its plane and its window ranges come back as they went.
func TestVolumeRow(t *testing.T) {
	for _, tt := range []struct {
		name string
		vol  *index.Volume
	}{
		{"none", nil},
		{"no windows (RGB)", &index.Volume{Dims: [4]int{3, 4, 5, 1}, PixelSize: [3]float64{1, 1, 2}, Datatype: "RGB24", Slice: 2}},
		{"windows", &index.Volume{Dims: [4]int{181, 217, 181, 1}, PixelSize: [3]float64{1, 1, 1}, Datatype: "uint8", QformCode: 1, SformCode: 4,
			Slice: 90, Plane: "axial", Windows: []index.VolumeWindow{{Name: "percentile 0.5-99.5", Low: 0, High: 211.5}, {Name: "min-max per slice", Low: 3, High: 255}}}},
	} {
		im := index.Image{Dataset: "d", Path: "v.nii.gz", Frame: 90, Format: "nifti", Volume: tt.vol}
		row := imageRow(&im)
		got, ok := row.record()
		if !ok || !reflect.DeepEqual(got, im) {
			t.Errorf("%s: got %+v (%v), want %+v", tt.name, got.Volume, ok, im.Volume)
		}
	}
}
