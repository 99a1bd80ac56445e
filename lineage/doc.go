// Package lineage is copycat's last stage: it reasons about datasets, not
// images. The index (package index) answers "which images are copies of
// which"; the questions people ask of medical image collections are a level
// above that: which public dataset is a re-upload of which, which one is
// the original, what was done to the copy on the way (rendered from DICOM,
// resized, flipped, re-compressed), whether the copy changed the licence,
// and whether the same patient image sits in both the train and the test
// split. Those answers need all clusters and all datasets at once, plus the
// datasets' documentation, so they live here rather than in the index
// (which must stay a fast store and search) or in the CLI (which only
// binds flags).
//
// # What Analyze does
//
//  1. Loads every image record (without thumbnails) and the clusters of the
//     index: match.Groups has decided which images are copies (rotated,
//     mirrored and cropped ones included) and how each relates to its
//     cluster's representative; a group is one source image and its
//     copies. Lineage relates two members by composing their transforms,
//     so it never disagrees with clusters or query about a pair.
//  2. Overlap: for every pair of datasets, the number of groups holding
//     images of both ("shared source images"), the share of each dataset's
//     images in those groups, and the relation of the closest image pair
//     of each group (identical file, identical pixels, same DICOM instance,
//     near-duplicate, and the rotation or mirror if any).
//  3. Direction: per closest pair, which image has the higher fidelity
//     (more bits, lossless over lossy, DICOM over a raster rendering,
//     higher JPEG quality, more pixels: the last two are weak, an upscaled
//     copy has more pixels and a JPEG re-saved as PNG is "lossless", and
//     where they disagree they cancel); a clear majority decides.
//     Without fidelity evidence, containment decides: the copy is the
//     dataset mostly inside the other. Neither: the edge is kept, marked
//     undetermined. An overlap of fewer than 2 images, or under 5% of both
//     datasets, is not a derivation.
//  4. Nearest parent: a copy with two parents where one parent derives
//     from the other keeps the parent its images are closest to (mean
//     pHash distance over the groups all three share; within half a bit,
//     metadata likeness: a render of a DICOM is as close to it as the
//     DICOM is, and the copy has the render's format); the other edge is
//     listed as indirect.
//  5. Transformations seen on each edge's closest pairs, split leakage
//     inside datasets and from an original's test split to a copy's train
//     split. For a NIfTI slice and a raster dump of it, the window the
//     dump was made under (window.go): the two thumbnails, read back from
//     the index, are fitted to a line on their unclipped cells, and the
//     window whose line (from the ranges the scan kept,
//     index.Volume.Windows) is nearest names it; an edge takes its pairs'
//     majority.
//  6. The documentation audit over each dataset's documentation files,
//     which the scan kept in the index (index.Document), so that a
//     download moved or deleted after its scan is still audited: the
//     licence recognised to an SPDX identifier with its evidence
//     (license.go, from the SPDX License List: spdx_table.go, made by
//     `go generate`), the card's items present or missing (card.go), and
//     the licence conflicts along each derivation (conflicts.go).
//
// The HTML report (html.go) shows all of it with every cluster's images:
// each image by the preview the scan stored (index.Image.Preview; the
// fingerprint's 32x32 thumbnail for images indexed before previews), at
// its aspect ratio, leak pairs framed in red. Clusters are paged, 100 to a
// self-contained page, so that the report of 100,000 images opens as fast
// as a small one.
package lineage
