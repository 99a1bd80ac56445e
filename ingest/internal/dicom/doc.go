// Package dicom is ingest's DICOM decoder. ingest sniffs a file, and when it
// is DICOM hands its bytes here: the file is parsed with
// github.com/suyashkumar/dicom v1.1.0 (after a structural scan that bounds
// every length the library will allocate), the pixel data is located, its
// frames are decompressed through the codec packages (JPEG, JPEG lossless,
// JPEG-LS, JPEG 2000, RLE), and each frame goes through the pixel pipeline
// (Modality LUT, VOI window or LUT, Presentation LUT, palette and YBR colour
// conversion) to the 8-bit grey or RGB picture a viewer shows. Decode hands
// the frames, one at a time, to a callback, with what the header says about
// the file; ingest turns them into its Frame and Meta.
//
// The package does not import ingest (ingest imports it): it has its own
// plain Options, Meta and Frame, and reports bad input with the error
// types of package decodeerr, which ingest maps onto its public ones.
//
// How a file is read is described in parse.go; PS3.5 and PS3.3 are the
// references throughout.
package dicom
