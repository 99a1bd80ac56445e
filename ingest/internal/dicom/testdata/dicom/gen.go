//go:build ignore

// gen rebuilds the DICOM fixtures in this folder from ImageMagick's built-in
// "rose:" photograph (70x46), with DCMTK (dump2dcm, dcmconv, dcmcjpeg,
// dcmcjpls, dcmcrle) and GDCM (gdcmconv). Run it from this folder:
//
//	go run gen.go
//
// Each fixture exercises one step of the DICOM pixel pipeline; README.md
// lists them. The tools must be installed (Debian: dcmtk, libgdcm-tools,
// imagemagick).
package main

import (
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const w, h = 70, 46

func main() {
	tmp, err := os.MkdirTemp("", "dicomgen")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	rgb, err := exec.Command("convert", "rose:", "-depth", "8", "rgb:-").Output()
	if err != nil || len(rgb) != 3*w*h {
		log.Fatalf("convert rose: %v (%d bytes)", err, len(rgb))
	}
	luma := make([]int, w*h)
	for i := range luma {
		r, g, b := int(rgb[3*i]), int(rgb[3*i+1]), int(rgb[3*i+2])
		luma[i] = (299*r + 587*g + 114*b + 500) / 1000
	}
	raw := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			log.Fatal(err)
		}
		return p
	}
	le16 := func(v []int) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
		}
		return b
	}
	bytes8 := func(v []int) []byte {
		b := make([]byte, len(v))
		for i, x := range v {
			b[i] = uint8(x)
		}
		return b
	}

	// 8-bit grey, no window: min-max VOI.
	dump("mono8_minmax.dcm", "+te", sc("MONOCHROME2", 1, 8, 8, 7, 0)+
		pix("OB", raw("g8", bytes8(luma))))

	// CT-like: 12 bits stored, signed, sign-extended, rescale, a window, and
	// Pixel Padding Value in a corner block.
	ct := make([]int, w*h)
	for i, v := range luma {
		ct[i] = v*16 + (i%w+i/w)%16 - 2048
		if i%w < 6 && i/w < 6 {
			ct[i] = -2000
		}
	}
	dump("ct12_signed_rescale_implicit.dcm", "+ti", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.2", "CT", "MONOCHROME2", 16, 12, 11, 1), "PLACEHOLDER",
		"(0028,0120) SS -2000\n(0028,1050) DS [40]\n(0028,1051) DS [400]\n(0028,1052) DS [-1024]\n(0028,1053) DS [1]\n", 1)+
		pix("OW", raw("ct", le16(ct))))

	// MONOCHROME1, 10 bits stored at High Bit 12 with junk in the unused
	// bits, big endian.
	cr := make([]int, w*h)
	for i, v := range luma {
		cr[i] = (v*4+i%4)<<3 | (i*7)&7 | (i*13)&0xE000
	}
	dump("cr_mono1_highbit_bigendian.dcm", "+tb", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.1", "CR", "MONOCHROME1", 16, 10, 12, 0), "PLACEHOLDER",
		"(0028,1050) DS [600]\n(0028,1051) DS [700]\n", 1)+
		pix("OW", raw("cr", le16(cr))))

	// 16-bit unsigned, VOI LUT Sequence (8-bit output, US data), no window.
	mr := make([]int, w*h)
	for i, v := range luma {
		mr[i] = v * 12
	}
	voi := make([]string, 1024)
	for i := range voi {
		voi[i] = fmt.Sprint(min(255, i*i/2048)) // a gamma-like curve
	}
	dump("mr16_voilut.dcm", "+te", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.4", "MR", "MONOCHROME2", 16, 16, 15, 0), "PLACEHOLDER",
		"(0028,3010) SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item with explicit length #=2)\n"+
			"(0028,3002) US 1024\\1000\\8\n(0028,3006) US "+strings.Join(voi, "\\")+"\n"+
			"(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n", 1)+
		pix("OW", raw("mr", le16(mr))))

	// SIGMOID VOI LUT Function.
	dump("mr16_sigmoid.dcm", "+te", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.4", "MR", "MONOCHROME2", 16, 16, 15, 0), "PLACEHOLDER",
		"(0028,1050) DS [1500]\n(0028,1051) DS [1200]\n(0028,1056) CS [SIGMOID]\n", 1)+
		pix("OW", raw("mr", le16(mr))))

	// Modality LUT Sequence on a CT (12-bit input, 16-bit output entries).
	mlut := make([]string, 4096)
	for i := range mlut {
		mlut[i] = fmt.Sprint(i * 3 / 2)
	}
	dump("ct_modality_lut.dcm", "+te", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.2", "CT", "MONOCHROME2", 16, 12, 11, 0), "PLACEHOLDER",
		"(0028,1050) DS [3000]\n(0028,1051) DS [4000]\n"+
			"(0028,3000) SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item with explicit length #=2)\n"+
			"(0028,3002) US 4096\\0\\16\n(0028,3006) US "+strings.Join(mlut, "\\")+"\n"+
			"(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n", 1)+
		pix("OW", raw("mr12", le16(mr))))

	// PALETTE COLOR: 8-bit indices, 16-bit entries.
	idx := make([]int, w*h)
	for i, v := range luma {
		idx[i] = v
	}
	var pr, pg, pb []int
	for i := range 256 {
		pr = append(pr, min(65535, i*3*257))
		pg = append(pg, max(0, min(65535, (i*3-255)*257)))
		pb = append(pb, max(0, (i*3-510)*257))
	}
	dump("palette16.dcm", "+te", palette("256\\0\\16")+
		"(0028,1201) OW ="+raw("r16", le16(pr))+"\n(0028,1202) OW ="+raw("g16", le16(pg))+"\n(0028,1203) OW ="+raw("b16", le16(pb))+"\n"+
		pix("OB", raw("p8", bytes8(idx))))

	// PALETTE COLOR: 16-bit allocated indices with 8-bit entries packed two
	// per OW word, first mapped value 16 (lower indices clamp).
	var r8, g8, b8 []byte
	for i := range 240 {
		r8 = append(r8, uint8(i))
		g8 = append(g8, uint8(255-i))
		b8 = append(b8, uint8((i*5)%256))
	}
	idx16 := make([]int, w*h)
	for i, v := range luma {
		idx16[i] = v
	}
	dump("palette8_packed.dcm", "+te", strings.Replace(palette("240\\16\\8"), "(0028,0100) US 8\n(0028,0101) US 8\n(0028,0102) US 7\n",
		"(0028,0100) US 16\n(0028,0101) US 8\n(0028,0102) US 7\n", 1)+
		"(0028,1201) OW ="+raw("r8", r8)+"\n(0028,1202) OW ="+raw("g8", g8)+"\n(0028,1203) OW ="+raw("b8", b8)+"\n"+
		pix("OW", raw("i16", le16(idx16))))

	// RGB by plane, big endian.
	planes := make([]byte, 3*w*h)
	for i := range w * h {
		for c := range 3 {
			planes[c*w*h+i] = rgb[3*i+c]
		}
	}
	dump("rgb_planar_bigendian.dcm", "+tb", color("RGB", 1)+pix("OB", raw("planes", planes)))

	// YBR_FULL, native (JFIF equations, rounded).
	ybr := make([]byte, 3*w*h)
	for i := range w * h {
		r, g, b := float64(rgb[3*i]), float64(rgb[3*i+1]), float64(rgb[3*i+2])
		ybr[3*i] = clamp(0.299*r + 0.587*g + 0.114*b)
		ybr[3*i+1] = clamp(-0.168736*r - 0.331264*g + 0.5*b + 128)
		ybr[3*i+2] = clamp(0.5*r - 0.418688*g - 0.081312*b + 128)
	}
	dump("ybr_full.dcm", "+te", color("YBR_FULL", 0)+pix("OB", raw("ybr", ybr)))
	dump("rgb.dcm", "+te", color("RGB", 0)+pix("OB", raw("rgb", rgb)))

	// Three frames with per-frame windows in functional groups and a
	// shared rescale.
	mf := make([]int, 0, 3*w*h)
	for f := range 3 {
		for i, v := range luma {
			mf = append(mf, v*8+f*300+(i%w)*2)
		}
	}
	fg := "(5200,9229) SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item with explicit length #=1)\n" +
		item("(0028,9145)", "(0028,1052) DS [-100]\n(0028,1053) DS [2]\n(0028,1054) LO [US]\n") +
		"(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n" +
		"(5200,9230) SQ (Sequence with explicit length #=3)\n"
	for f, win := range [][2]int{{1000, 2000}, {2500, 1500}, {3000, 4000}} {
		_ = f
		fg += "(fffe,e000) na (Item with explicit length #=1)\n" +
			item("(0028,9132)", fmt.Sprintf("(0028,1050) DS [%d]\n(0028,1051) DS [%d]\n", win[0], win[1])) +
			"(fffe,e00d) na (ItemDelimitationItem)\n"
	}
	fg += "(fffe,e0dd) na (SequenceDelimitationItem)\n"
	dump("multiframe_fg.dcm", "+te", strings.Replace(
		mono("1.2.840.10008.5.1.4.1.1.7", "OT", "MONOCHROME2", 16, 14, 13, 0), "PLACEHOLDER",
		"(0028,0008) IS [3]\n"+fg, 1)+
		pix("OW", raw("mf", le16(mf))))

	// A structured report-like object: no Pixel Data.
	dump("no_pixel_data.dcm", "+te", "(0008,0016) UI =BasicTextSRStorage\n(0008,0018) UI [1.2.826.0.1.3680043.9.7433.1.99]\n"+
		"(0008,0060) CS [SR]\n(0010,0020) LO [FIXTURE-PID-0]\n(0040,a040) CS [CONTAINER]\n")

	// Transfer-syntax variants made with the real tools.
	run("dcmconv", "+td", "mono8_minmax.dcm", "mono8_deflated.dcm")
	run("cp", "mono8_minmax.dcm", "mono8_inverse.dcm")
	run("dcmodify", "-nb", "-i", "(2050,0020)=INVERSE", "mono8_inverse.dcm")
	run("dcmconv", "-F", "+ti", "ct12_signed_rescale_implicit.dcm", "ct12_nometa_implicit.dcm")
	run("dcmconv", "-F", "+te", "multiframe_fg.dcm", "multiframe_nometa_explicit.dcm")
	run("dcmcrle", "multiframe_fg.dcm", "multiframe_rle.dcm")
	run("dcmcrle", "rgb.dcm", "rgb_rle.dcm")
	run("dcmcjpeg", "+e1", "ct12_signed_rescale_implicit.dcm", "ct12_jpeg_lossless_sv1.dcm")
	run("dcmcjpeg", "+el", "+sv", "6", "multiframe_fg.dcm", "multiframe_jpeg_lossless_sv6.dcm")
	run("dcmcjpeg", "+eb", "mono8_minmax.dcm", "mono8_jpeg_baseline.dcm")
	run("dcmcjpeg", "+eb", "+s2", "rgb.dcm", "rgb_jpeg_baseline_422.dcm")
	run("dcmcjpeg", "+ee", "cr_mono1_highbit_bigendian.dcm", "cr_jpeg_extended12.dcm")
	run("dcmcjpls", "ct12_signed_rescale_implicit.dcm", "ct12_jpegls.dcm")
	run("gdcmconv", "--j2k", "ct12_signed_rescale_implicit.dcm", "ct12_j2k.dcm")
	run("gdcmconv", "--j2k", "rgb.dcm", "rgb_j2k.dcm")
}

// sc is the header of a Secondary Capture image.
func sc(photometric string, spp, ba, bs, hb, pr int) string {
	return fmt.Sprintf("(0008,0016) UI =SecondaryCaptureImageStorage\n(0008,0018) UI [1.2.826.0.1.3680043.9.7433.1.%d%d%d]\n"+
		"(0008,0060) CS [OT]\n(0010,0010) PN [Fixture^Patient]\n(0010,0020) LO [FIXTURE-PID-1]\n"+
		"(0020,000d) UI [1.2.826.0.1.3680043.9.7433.2.1]\n(0020,000e) UI [1.2.826.0.1.3680043.9.7433.3.1]\n"+
		"(0028,0002) US %d\n(0028,0004) CS [%s]\n(0028,0010) US %d\n(0028,0011) US %d\n"+
		"(0028,0100) US %d\n(0028,0101) US %d\n(0028,0102) US %d\n(0028,0103) US %d\n",
		ba, bs, len(photometric), spp, photometric, h, w, ba, bs, hb, pr)
}

// mono is a monochrome header with a PLACEHOLDER line for module-specific
// attributes.
func mono(sopClass, modality, photometric string, ba, bs, hb, pr int) string {
	s := sc(photometric, 1, ba, bs, hb, pr)
	s = strings.Replace(s, "=SecondaryCaptureImageStorage", "["+sopClass+"]", 1)
	s = strings.Replace(s, "[OT]", "["+modality+"]", 1)
	return s + "PLACEHOLDER"
}

func color(photometric string, planar int) string {
	return sc(photometric, 3, 8, 8, 7, 0) + fmt.Sprintf("(0028,0006) US %d\n", planar)
}

func palette(desc string) string {
	return sc("PALETTE COLOR", 1, 8, 8, 7, 0) +
		fmt.Sprintf("(0028,1101) US %s\n(0028,1102) US %s\n(0028,1103) US %s\n", desc, desc, desc)
}

func item(seq, body string) string {
	return seq + " SQ (Sequence with explicit length #=1)\n(fffe,e000) na (Item with explicit length #=1)\n" + body +
		"(fffe,e00d) na (ItemDelimitationItem)\n(fffe,e0dd) na (SequenceDelimitationItem)\n"
}

func pix(vr, file string) string { return "(7fe0,0010) " + vr + " =" + file + "\n" }

func clamp(v float64) byte {
	v += 0.5
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return byte(v)
}

func dump(name, ts, text string) {
	f, err := os.CreateTemp("", "dump")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		log.Fatal(err)
	}
	f.Close()
	run("dump2dcm", "+l", "1000000", ts, f.Name(), name)
}

func run(args ...string) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%v: %v", args, err)
	}
}
