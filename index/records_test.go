package index

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// sampleRecords are the records the golden files hold: one of each kind,
// with every field set, so that a change to an encoding shows up as a diff
// of testdata/ (and needs a new record version).
func sampleRecords() (datasetRecord, fileRecord, Image) {
	ds := datasetRecord{
		ID: 7, Source: "/data/ct-2024.zip", Gen: 3, State: stateScanning,
		Files: 1200, Images: 35000, Failures: 4,
		ScanStarted: time.Unix(1_750_000_000, 5).UTC(),
		LastScan:    time.Unix(1_749_000_000, 0).UTC(),
	}
	f, imgs := fakeFile("upload.zip!/train/0001.dcm", 42, 3)
	f.Failure = ""
	fr := fileRecord{File: f, Gen: 3}
	for i := range imgs {
		imgs[i].ID = 1000 + uint64(i)
		fr.Images = append(fr.Images, fileImageOf(&imgs[i], 7))
	}
	im := imgs[1]
	im.Path = f.Path
	im.Lossy = true
	im.JPEGQuality = 85
	im.SeriesInstanceUID = "1.2.3.4"
	im.StudyInstanceUID = "1.2.3"
	im.PatientIDDigest = "9f86d081884c7d65"
	im.Fingerprint.PDQZeros = 17
	mm := fakeImage(43, 1).Fingerprint
	mm.PDQZeros = 256
	im.MinMax = &mm
	im.Volume = &Volume{Dims: [4]int{181, 217, 181, 2}, PixelSize: [3]float64{1, 1, 1.5}, Datatype: "int16", QformCode: 1, SformCode: 4, Slice: 90, T: 1, Plane: "axial",
		Windows: []VolumeWindow{{"percentile 0.5-99.5", 2.5, 811.25}, {"min-max per slice", -3, 1000}, {"cal_min/cal_max", 0, 0.75}}}
	fr.Images[1] = fileImageOf(&im, 7)
	return ds, fr, im
}

// beforeMinMax strips from sample records what image records before
// version 3 and file records before version 2 cannot hold.
func beforeMinMax(fr fileRecord, im Image) (fileRecord, Image) {
	fr.Images = slices.Clone(fr.Images)
	for i := range fr.Images {
		fr.Images[i].mm, fr.Images[i].hasMM = 0, false
		fr.Images[i].canon = [2]uint64{} // older than canonical pHashes too
	}
	im.Fingerprint.PDQZeros, im.MinMax, im.Volume = 0, nil, nil
	return fr, im
}

func goldenBytes(t *testing.T, name string, got []byte) {
	t.Helper()
	if !testkit.CheckBytes(t, filepath.Join("testdata", "records", name), got) {
		t.Log("the encoding changed: if intended, bump the record version, then run go test -update")
	}
}

func TestRecordsRoundTripAndGolden(t *testing.T) {
	ds, fr, im := sampleRecords()

	b := encodeDataset(&ds)
	goldenBytes(t, "dataset.bin", b)
	gotDS, err := decodeDataset(b)
	if err != nil || !reflect.DeepEqual(gotDS, ds) {
		t.Errorf("dataset round trip: got %+v, %v; want %+v", gotDS, err, ds)
	}

	b = encodeFile(&fr)
	goldenBytes(t, "file.bin", b)
	gotFR, err := decodeFile(b, 7)
	want := fr
	want.Dataset, want.Path = "", "" // they live in the key
	want.ModTime = want.ModTime.UTC()
	if err != nil || !reflect.DeepEqual(gotFR, want) {
		t.Errorf("file round trip: got %+v, %v; want %+v", gotFR, err, want)
	}

	b = encodeImage(&im, 7)
	goldenBytes(t, "image.bin", b)
	gotIm, gotDSID, err := decodeImage(b)
	wantIm := im
	wantIm.ID, wantIm.Dataset = 0, ""
	if err != nil || gotDSID != 7 || !reflect.DeepEqual(gotIm, wantIm) {
		t.Errorf("image round trip: dataset %d, err %v; records equal: %v", gotDSID, err, reflect.DeepEqual(gotIm, wantIm))
	}
	t.Logf("image record: %d bytes", len(b))
}

// TestDecodeOldImages reads image records of earlier versions: v1 (before
// JPEGQuality), v2 (before PDQZeros and the min-max fingerprint), v3
// (before the NIfTI volume), v4 (before the volume's plane) and v5
// (before the volume's window ranges).
func TestDecodeOldImages(t *testing.T) {
	for _, tc := range []struct {
		file        string
		jpegQuality bool
	}{{"image_v1.bin", false}, {"image_v2.bin", true}, {"image_v3.bin", true}, {"image_v4.bin", true}, {"image_v5.bin", true}} {
		b, err := os.ReadFile(filepath.Join("testdata", "records", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		_, fr, want := sampleRecords()
		switch tc.file {
		case "image_v5.bin", "image_v4.bin":
			v := *want.Volume
			v.Windows = nil
			if tc.file == "image_v4.bin" {
				v.Plane = ""
			}
			want.Volume = &v
		case "image_v3.bin":
			want.Volume = nil
		default:
			_, want = beforeMinMax(fr, want)
		}
		want.ID, want.Dataset = 0, ""
		if !tc.jpegQuality {
			want.JPEGQuality = 0
		}
		got, ds, err := decodeImage(b)
		if err != nil || ds != 7 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: dataset %d, err %v, equal %v", tc.file, ds, err, reflect.DeepEqual(got, want))
		}
	}
}

// TestDecodeFileV2 reads a file record written before canonical pHashes:
// its images have none, and a rescan reads the file again.
func TestDecodeFileV2(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "records", "file_v2.bin"))
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := sampleRecords()
	want.Images = slices.Clone(want.Images)
	for i := range want.Images {
		want.Images[i].canon = [2]uint64{}
	}
	want.Dataset, want.Path = "", ""
	want.ModTime = want.ModTime.UTC()
	want.beforeCanonical = true
	got, err := decodeFile(b, 7)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("v2 file: got %+v, %v; want %+v", got, err, want)
	}
	if !lacksCanonical(&got) {
		t.Error("a v2 file record does not ask for a rescan")
	}
}

// TestDecodeFileV1 reads a file record written before min-max pHashes.
func TestDecodeFileV1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "records", "file_v1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	_, fr, im := sampleRecords()
	want, _ := beforeMinMax(fr, im)
	want.Dataset, want.Path = "", ""
	want.ModTime = want.ModTime.UTC()
	want.beforeCanonical = true
	got, err := decodeFile(b, 7)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("v1 file: got %+v, %v; want %+v", got, err, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	ds, fr, im := sampleRecords()
	good := map[string][]byte{
		"dataset": encodeDataset(&ds),
		"file":    encodeFile(&fr),
		"image":   encodeImage(&im, 1),
	}
	decode := map[string]func([]byte) error{
		"dataset": func(b []byte) error { _, err := decodeDataset(b); return err },
		"file":    func(b []byte) error { _, err := decodeFile(b, 1); return err },
		"image":   func(b []byte) error { _, _, err := decodeImage(b); return err },
	}
	for kind, b := range good {
		tests := []struct {
			name string
			in   []byte
			want error
		}{
			{"empty", nil, ErrCorrupt},
			{"truncated", b[:len(b)/2], ErrCorrupt},
			{"trailing", append(bytes.Clone(b), 0), ErrCorrupt},
			{"newer version", append([]byte{9}, b[1:]...), ErrVersion},
		}
		for _, tc := range tests {
			if err := decode[kind](tc.in); !errors.Is(err, tc.want) {
				t.Errorf("%s %s: err = %v, want %v", kind, tc.name, err, tc.want)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	_, _, im := sampleRecords()
	im.ID = 99
	ref := fileImageOf(&im, 3)
	keys := [][]byte{ref.key(), ref.mmKey(), fileKey(3, im.Path), datasetKey("ct"), metaSalt}
	for _, k := range keys {
		if err := parseKey(k); err != nil {
			t.Errorf("parseKey(%q): %v", k, err)
		}
	}
	got, err := parseImageKey(ref.key())
	if err != nil || got != ref.imageRef || got.pix == 0 || got.sop == 0 {
		t.Errorf("image key round trip: %+v, %v; want %+v", got, err, ref.imageRef)
	}
	id, ds, mm, err := parseMinMaxKey(ref.mmKey())
	if err != nil || id != ref.id || ds != ref.ds || mm != ref.mm || !ref.hasMM {
		t.Errorf("min-max key round trip: %d %d %016x, %v; want %+v", id, ds, mm, err, ref)
	}
	if !bytes.HasPrefix(ref.key(), imageIDPrefix(99)) {
		t.Error("image key does not start with its ID prefix")
	}
	if sopDigest("1.2.3", 0) == sopDigest("1.2.3", 1) || sopDigest("", 0) != 0 {
		t.Error("sopDigest does not tell frames apart, or digests an empty UID")
	}
	bad := [][]byte{nil, {'Z'}, {tagImage, 1}, {tagMinMax, 1}, []byte("Mnope"), {tagDataset}, append([]byte{tagDataset}, "a\nb"...)}
	for _, k := range bad {
		if err := parseKey(k); err == nil {
			t.Errorf("parseKey(%q) accepted a bad key", k)
		}
	}
	if sopIndexable("1.2\x003") || sopIndexable("") || !sopIndexable("1.2.3") {
		t.Error("sopIndexable misjudges")
	}
}

func TestDatasetNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ct-2024", true},
		{"Données publiques", true},
		{"", false},
		{"tab\there", false},
		{string([]byte{0xff, 0xfe}), false},
		{string(make([]byte, MaxDatasetName+1)), false},
	}
	for _, tc := range tests {
		if err := checkDatasetName(tc.name); (err == nil) != tc.ok {
			t.Errorf("checkDatasetName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// seedFromTestdata adds every golden record as a fuzz seed.
func seedFromTestdata(f *testing.F) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "records", "*.bin"))
	if len(paths) == 0 {
		f.Fatal("no seeds in testdata/records (run go test -update)")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRecords feeds arbitrary bytes to every value decoder: none may
// panic, and whatever decodes must re-encode to a value that decodes to the
// same record.
func FuzzDecodeRecords(f *testing.F) {
	seedFromTestdata(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ds, err := decodeDataset(b); err == nil {
			again, err := decodeDataset(encodeDataset(&ds))
			if err != nil || !reflect.DeepEqual(again, ds) {
				t.Fatalf("dataset record does not round-trip: %+v vs %+v (%v)", ds, again, err)
			}
		}
		if fr, err := decodeFile(b, 1); err == nil {
			again, err := decodeFile(encodeFile(&fr), 1)
			again.beforeCanonical = fr.beforeCanonical // re-encoded at the current version
			if err != nil || !reflect.DeepEqual(again, fr) {
				t.Fatalf("file record does not round-trip: %+v vs %+v (%v)", fr, again, err)
			}
		}
		if im, ds, err := decodeImage(b); err == nil {
			again, ds2, err := decodeImage(encodeImage(&im, ds))
			if err != nil || ds2 != ds || !reflect.DeepEqual(again, im) {
				t.Fatalf("image record does not round-trip (%v)", err)
			}
		}
	})
}

// FuzzParseKey feeds arbitrary keys to the key parsers.
func FuzzParseKey(f *testing.F) {
	_, fr, im := sampleRecords()
	im.ID = 5
	for _, k := range [][]byte{refOf(&im, 2).key(), fileImageOf(&im, 2).mmKey(), fileKey(2, fr.Path), datasetKey("ct"), metaVersion} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		if parseKey(k) != nil {
			return
		}
		switch k[0] {
		case tagFile:
			ds, p, err := parseFileKey(k)
			if err != nil || !bytes.Equal(fileKey(ds, p), k) {
				t.Fatalf("file key %q does not round-trip", k)
			}
		case tagImage:
			ref, err := parseImageKey(k)
			if err != nil || !bytes.Equal(ref.key(), k) {
				t.Fatalf("image key %q does not round-trip", k)
			}
		case tagMinMax:
			id, ds, mm, err := parseMinMaxKey(k)
			ref := fileImage{imageRef: imageRef{id: id, ds: ds}, mm: mm, hasMM: true}
			if err != nil || !bytes.Equal(ref.mmKey(), k) {
				t.Fatalf("min-max key %q does not round-trip", k)
			}
		}
	})
}
