// Command demogen builds the derived "uploads" that `make demo` scans: from
// the project's own DICOM fixtures (testdata/demo/original) it makes what
// re-uploaders do to a medical dataset, with copycat's own renderer, the
// imaging library and the standard encoders, so the demo needs Go alone:
//
//	upload.zip:         a subset rendered to 8-bit PNG and JPEG, relicensed MIT
//	kaggle-copy.tar.gz: that upload squashed to 96x96 JPEG q75, one image
//	                    mirrored, one image in both train and test, no licence
//
// usage: go run ./internal/demogen ORIGINAL_DIR OUT_DIR
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"time"

	"github.com/disintegration/imaging"

	"github.com/copycat-dev/copycat/ingest"
)

type file struct {
	name string
	data []byte
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: demogen ORIGINAL_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "demogen:", err)
		os.Exit(1)
	}
}

func run(orig, out string) error {
	render := func(name string) (image.Image, error) {
		data, err := os.ReadFile(filepath.Join(orig, name))
		if err != nil {
			return nil, err
		}
		var img image.Image
		_, err = ingest.Decode(data, ingest.Options{}, func(f ingest.Frame) error {
			if img == nil {
				img = f.Image
			}
			return nil
		})
		return img, err
	}
	var imgs []image.Image
	for _, n := range []string{"ct_0001.dcm", "ct_0002.dcm", "ct_0003.dcm"} {
		img, err := render(n)
		if err != nil {
			return fmt.Errorf("render %s: %w", n, err)
		}
		imgs = append(imgs, img)
	}
	pngOf := func(img image.Image) ([]byte, error) {
		var b bytes.Buffer
		err := png.Encode(&b, img)
		return b.Bytes(), err
	}
	jpegOf := func(img image.Image, q int) ([]byte, error) {
		var b bytes.Buffer
		err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
		return b.Bytes(), err
	}
	up := []file{{"README.md", []byte("# CT slices for deep learning\nLicense: MIT\n")}}
	var err error
	var p1, p2, j3 []byte
	if p1, err = pngOf(imgs[0]); err == nil {
		if p2, err = pngOf(imgs[1]); err == nil {
			j3, err = jpegOf(imgs[2], 90)
		}
	}
	if err != nil {
		return err
	}
	up = append(up, file{"train/img_1.png", p1}, file{"train/img_2.png", p2}, file{"test/img_3.jpg", j3})

	small := func(img image.Image) image.Image { return imaging.Resize(img, 96, 96, imaging.Lanczos) }
	k1, err := jpegOf(small(imgs[0]), 75)
	if err != nil {
		return err
	}
	k2, err := jpegOf(imaging.FlipH(small(imgs[1])), 75)
	if err != nil {
		return err
	}
	k3, err := jpegOf(small(imgs[2]), 75)
	if err != nil {
		return err
	}
	kaggle := []file{
		{"README.md", []byte("# CT slices 96px\nReady for training!\n")},
		{"train/0001.jpg", k1}, {"train/0002.jpg", k2}, {"test/0003.jpg", k3},
		{"test/0004.jpg", k1}, // the leak: a training image again in test
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeZip(filepath.Join(out, "upload.zip"), up); err != nil {
		return err
	}
	return writeTarGz(filepath.Join(out, "kaggle-copy.tar.gz"), kaggle)
}

var stamp = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func writeZip(p string, files []file) error {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(p, b.Bytes(), 0o644)
}

func writeTarGz(p string, files []file) error {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: stamp, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(p, b.Bytes(), 0o644)
}
