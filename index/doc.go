// Package index is copycat's memory: the third stage of the pipeline
// (ingest decodes, hash fingerprints, index stores and searches, lineage
// reasons about the matches). It keeps every scanned file and image in a
// Badger database, finds near-duplicates by Hamming distance on the 64-bit
// pHash with multi-index hashing, and groups copies into clusters after
// verifying candidate pairs on finer evidence. It is the only package that
// imports Badger.
//
// # Using it
//
//	s, err := index.Open(dir, index.Options{Logger: log})   // writer: takes dir/copycat.lock
//	sc, err := s.BeginWrite("ct-2024", "/data/ct-2024.zip")
//	for each file: if same, _ := sc.Unchanged(path, size, mtime); !same { sc.Put(file, frames) }
//	res, err := sc.Finish()  // removes files not seen, records counts; sc.Close() instead when cancelled
//
//	r, err := index.Open(dir, index.Options{ReadOnly: true})
//	matches, err := r.Query(ctx, im.AsQuery())   // im: an Image decoded as a scan does (scan.Worker.Frames)
//	clusters, stats, err := r.Clusters(ctx, index.ClusterOptions{MaxDistance: -1})
//
// One process writes at a time: a writer holds an exclusive flock on
// dir/copycat.lock, readers a shared one, and a conflicting Open fails at
// once with a *LockedError (errors.Is ErrLocked) that names the lock file.
// Readers cannot open while a scan writes: Badger refuses to share a
// directory between a writer and readers, so the lock says so first. A
// read-only Open after a killed writer replays Badger's log under a brief
// exclusive lock, then reads.
//
// # Key schema
//
// Every key starts with a one-byte tag naming its table. Integers in keys
// are big-endian so that prefix scans come out in order; values start with
// a version byte (records.go) and are varints, length-prefixed strings and
// raw digests.
//
//	M<name>                                    meta: "version" (schema, uvarint), "salt" (32 random bytes,
//	                                           made on first open; keys ingest's patient-ID digests),
//	                                           "nextimage" and "nextdataset" (ID counters)
//	D<dataset name>                            dataset record: ID (uint32), source path, scan generation,
//	                                           state (complete, scanning, forgetting), files, images,
//	                                           failures, scan start and finish times
//	F<dataset ID:4><path>                      file record: generation of the last scan that saw it,
//	                                           size, mtime (ns), SHA-256, format, frames, failure
//	                                           reason, and the keys of its images (ID, pHash, digests)
//	I<id:8><dataset:4><pHash:8><pix:8><sop:8>  image record: path, frame, format, width, height, bits,
//	 <canon:8><canon2:8>
//	                                           photometric, lossy, file size, file and pixel SHA-256,
//	                                           transfer syntax, SOP/series/study UIDs, modality,
//	                                           patient-ID digest, and the fingerprint (pHash, dHash,
//	                                           aHash, PDQ and its quality, 8 dihedral pHashes, 32x32
//	                                           thumbnail): about 1.3 KB; for a DICOM frame whose stored
//	                                           window clips, a second fingerprint (Image.MinMax); for
//	                                           a NIfTI slice, its volume (Image.Volume: geometry,
//	                                           plane and, from record version 6, what each window of
//	                                           slice-dump scripts maps to black and white, about 100
//	                                           bytes)
//	W<id:8><dataset:4><pHash:8>                empty value: the image has a min-max fingerprint with
//	                                           this pHash (listed in the file record, like the I key)
//	T<dataset ID:4><path>                      a documentation file (licence, README, card, Kaggle
//	                                           metadata; docs.go): its size and first MiB; the key
//	                                           with an empty path marks the documents as recorded
//	R<a:8><b:8>                                empty value: an imported verified pair of image IDs, a < b
//	                                           (pairs.go); "Mpairs" stamps the set: version, digest of
//	                                           the image and min-max keys it was set on, its distance,
//	                                           transforms option and count
//	P<id:8>                                    the image's preview (Image.Preview): a JPEG of at most
//	                                           96 px a side, about 1.9 KB on the corpus; deleted with
//	                                           the image, absent for images indexed before version 4
//
// pix is the first 8 bytes of the pixel SHA-256 (0 if unknown) and sop the
// first 8 bytes of SHA-256(SOPInstanceUID, 0, frame) (0 without a UID);
// canon and canon2 are the pHashes in canonical orientation
// (match.Canonical; canon2 is 0 unless the picture is too symmetric for one
// orientation to be sure), which Clusters joins to find rotated and
// mirrored copies. Keys written before schema version 3 end after sop.
// Image IDs are allocated in increasing order and never reused; a dataset
// keeps its ID for life.
//
// Schema version 2 added the W keys, image records of version 3 (PDQZeros,
// the min-max fingerprint) and file records of version 2 (each image's
// min-max pHash); version 3 the canonical pHashes at the end of image keys
// and file records of version 3 (which list them); version 4 the P keys,
// kept apart from the I key's record so that reading every record (Images,
// Clusters, lineage) does not read the previews too. This package reads the
// older keys and records as they are, and a writer marks an older index 4
// when it opens it. Files already indexed get min-max fingerprints and previews when a
// scan reads them again; a rescan reads again every file whose record
// predates canonical pHashes (Writer.Unchanged says no), so that its rotated
// copies can be found.
//
// # Two renderings of a DICOM frame
//
// A DICOM frame is rendered through the window its header stores, as
// viewers and dcm2pnm do; scripts that export datasets to PNG mostly scale
// each frame from its minimum to its maximum instead. Where the stored
// window clips (a soft-tissue CT window, a PET window far above the data)
// the two are different pictures, 8-22 pHash bits apart on the corpus.
// Such a frame gets a second fingerprint, of its min-max rendering, and a
// W key that puts its pHash in the search structure beside the I keys'
// (hashIndex.imageOf maps a hash back to its image). Query and
// Clusters compare two images through every pair of their renderings and
// keep the best (a verified pair at the least distance); an image never
// pairs with its own second rendering, and each pair of images is reported
// once. scan's TestDICOMRenderRecall looks up every DCMTK render of the
// corpus DICOMs (own window and min-max) in an index of the DICOMs: all 98
// renders that show something are found as verified copies, 12 of them
// through the min-max fingerprint; 3 renders are featureless (blank under
// their window) and, like all blank images, match only when identical.
//
// The exact-match "tables" (identical file, identical pixels, same DICOM
// instance) and the multi-index hashing structure are not separate keys:
// everything they need sits in the image key, and a key-only scan of the I
// prefix (values untouched) loads it into memory, where the lookups run.
// Identical files are found through their pixels (the same bytes decode to
// the same pixels) and confirmed with the file digest in the record. This
// was measured, not assumed: with the first design (six keys per image:
// file, image, Hamming, file-digest, pixel-digest and SOP keys) a scan
// wrote about 45,000 images per CPU-second; with two keys (file, image)
// and image records in Badger's value log (values over 512 bytes), about
// 78,000; the key-only scan of 200,000 image keys fell from 410-600 ms
// (values inline) to 52 ms (values in the value log).
//
// # Atomicity and crashes
//
// A file record and all its image keys are written in one Badger
// transaction (Writer.Put reserves room for all of them before writing any),
// so no crash leaves an image without its file record or the reverse; the
// image counter is written in the same transaction as the IDs it covers.
// Writer.Put batches files into transactions of up to Options.BatchFiles
// files (default 512) or Options.FlushInterval (default 2 s).
//
// Commits are pipelined, because Badger applies every commit on one write
// goroutine (value log, write-ahead log, memtable skiplist) and a plain
// Commit leaves the caller idle meanwhile: a full batch is handed over with
// Txn.CommitWith and the scan encodes the next one on the other core, so
// Badger finds a batch waiting whenever it finishes one. At most two
// batches are in Badger's hands: a commit sends the open batch, then waits
// until the one before is applied. Badger makes a new transaction wait
// until every commit sent before it is applied, so transactions are begun
// ahead on a goroutine of their own, each just after the previous one was
// taken: the open transaction's snapshot then holds every batch but perhaps
// the latest one sent. The file records of that batch and of the open one
// are kept in memory (a map per batch), and Unchanged and Put look there
// before the snapshot, so a scan sees everything it wrote. Flush, Finish
// and Close wait until everything sent is applied; a failed background
// commit fails the scan at the next commit or at Flush, Finish or Close.
// Batches reach Badger's log in order, one transaction each, so a kill
// loses the open batch and any sent batch not yet logged, never part of a
// file.
//
// Rescans are bounded in memory: BeginWrite increments the dataset's
// generation; Unchanged and Put stamp each file seen with it; Finish walks
// the dataset's F prefix and deletes the files with an older generation,
// then stores the counts. A scan killed at any point leaves the dataset
// marked incomplete with its old counts, and every file either fully old or
// fully new; the next scan redoes what is missing. Forget marks the dataset
// "forgetting" (readers stop seeing it at once), deletes file by file, then
// removes the record; a writable Open finishes an interrupted Forget.
// TestSIGKILLMidScan kills a real writer process at random moments and
// checks all of this with Check, which verifies every invariant above.
//
// Badger's value-log GC is never run. With it (after rescans, then after
// Forget), a writer killed some time after a GC sometimes came back with
// image records that had been deleted, images no file record lists: in
// the SIGKILL test with a Forget and its GC in every round, 5 of 44 runs;
// without the GC, 0 of 44 (a known class of Badger bug, dgraph-io/badger
// #2143 and #2286). Replaced and deleted image records keep their
// value-log space (about 1.3 KB each, and their previews) until Compact
// copies the live records into a new store and swaps it in
// (compact.go, TestSIGKILLMidCompact).
//
// # Memory
//
// A scan's memory is Badger's: memtables of 16 MB (three at most, one
// filling while the others are flushed), the table builders of its
// compactions, and a 64 MB block cache. Badger's default 64 MB memtable
// made a scan's heap grow with the images written, to 514 MB at 400,000
// images (BenchmarkScanPut with -benchtime 400000x, RssAnon polled); 16 MB
// keeps it near 150 MB, for about 13% of the insert rate (which is a
// hundred times what decoding feeds a scan). Badger also keeps every
// value-log file it wrote memory-mapped, about 1.3 KB per image: those
// pages count in the process's resident set but are page cache, which the
// kernel reclaims when memory is short (bench/scripts/memory.sh measures
// both, and with LIMIT_MB runs scans in a memory cgroup to show it). A
// writable store hands them back every second (pageout_linux.go,
// MADV_PAGEOUT, all but the value log being written): `copycat bench index
// --n 1000000` ended its insert with 423 MB of heap and 1421 MB of
// file-backed pages resident before, 461 MB and 105 MB after, its peak
// during the insert 625 MB; the CPU per image did not change measurably
// (BenchmarkScanPut, three interleaved pairs of runs).
//
// # Hamming search
//
// Multi-index hashing (hamming.go): the pHash's 64 bits are permuted and
// cut into three chunks of 21 bits, one bit left out. Two hashes within
// distance r have chunk distances summing to at most r, so with radii
// t0+t1+t2 = r-2 one chunk is within its radius (for r = 8: 2, 2, 2, which
// is floor(r/m) for m = 3). Each chunk has a table sorted by its value
// (a counting sort: 2^21 buckets, 8 MB of offsets); a query probes the 232
// neighbours of its chunk values in each table and verifies candidates on
// the full hash; a pair found in several chunks is reported by the first.
//
// Real pHash bits are not uniform: every hash has 32 ones and the DC
// coefficient's bit is always 1. The permutation is planned from the data:
// the least informative bit is the one left out and the others are dealt to
// the chunks by entropy, so the chunks stay balanced.
//
// All pairs (AllPairs, used by Clusters) join each chunk table with itself:
// for every flip mask p it walks the non-empty buckets v in order and
// compares bucket v with bucket v^p. Which buckets to visit is computed 64
// at a time from a 256 KB bitmap of non-empty buckets ANDed with itself
// permuted by p, so empty buckets cost nothing, and the comparisons run
// four at a time with one branch. Below a million hashes the tables key on
// fewer bits (about two per hash), which keeps small indexes cheap.
// TestAllPairsMatchesBruteForce checks the result against brute force on
// 100,000 hashes (uniform and pHash-like, near-duplicates planted at every
// distance 0..8): identical pair sets.
//
// Measured on the 2-core development machine, shared with other jobs
// (load average 2-8 during the runs, so wall times are pessimistic; the
// commands are in bench's BenchmarkIndex1M and BenchmarkPairs10M):
//
//	all pairs, 1M pHash-like hashes, r=8           1.5 s wall (4.2 s under heavier load)
//	all pairs, 996,752 pHashes of real images      3.0 s wall, 11.8 million pairs (bench.RealHashes:
//	                                               windows of corpus frames, 6 gammas, 8 orientations)
//	all pairs, 10M pHash-like hashes, r=8          52 s wall, peak RSS 620 MB (46 s with GOAMD64=v3);
//	                                               about 16e9 candidate comparisons, CPU-bound
//	one query over 1M (HashSet.Search)             p50 29 us, p99 46 us; linear scan p50 1.2 ms (43x)
//	one query over 10M                             p50 106-117 us; linear scan p50 12-16 ms (110-135x)
//	Store.Query over 1M (8 orientations, records)  p50 162 us, p99 270 us
//	insert, Writer.Unchanged + Put, one-frame files  109,000-119,000 images/s (1M in 8.4-9.1 s, no other
//	                                               job running; 74,000-78,000 with synchronous commits);
//	                                               12-14 CPU-s in all, 8 of them on Badger's single write
//	                                               goroutine (skiplist 4.3, value log 2.3, WAL 1.0), which
//	                                               a trace shows running 90% of the time and waiting for a
//	                                               core 7%: it is the limit
//	disk                                           1,446 bytes per image (the 1 KB thumbnail dominates)
//	rescan of 10,000 unchanged files               114-146 ms (BenchmarkUnchanged, 2026-11-27,
//	                                               16 MB memtables; 90 ms was written here before)
//	loading the search structure at 1M             1.2 s (key-only scan and three tables, 116 MB)
//
// Building with GOAMD64=v2 or higher removes a CPU-feature check from every
// popcount and makes the join about a third faster.
//
// # Verification
//
// The pHash alone cannot tell a copy from a neighbour: adjacent CT slices,
// consecutive frames of an ultrasound clip and repeated acquisitions sit a
// few bits apart. match.Compare therefore verifies a candidate pair (pHash
// within MaxDistance) only if
//
//   - the two images are not frames of one file, nor two instances (different
//     SOPInstanceUIDs) of one DICOM series, nor consecutive frames of a
//     sequence saved as files (one folder, one format and size, names
//     numbered n and n+1: match.SequenceNeighbours): such images look alike
//     by nature and are copies only when their pixels are identical
//     (match.SameAcquisition);
//   - neither thumbnail is featureless (blank frames match only exactly);
//   - the 32x32 thumbnails correlate at 0.98 or more, their standardised mean
//     absolute difference is at most 0.15, and, when both PDQ hashes have
//     quality 50 or more and at most hash.PDQMaxZeros coefficients that are
//     zero but for rounding, the PDQ distance is at most 80 of 256.
//
// The thresholds come from the verification study (bench.RunVerify, run by
// TestVerifyStudy on ../shared/corpus, decoding as a scan does: JPEG data
// reduced to hash.MinSide): 20 corpus images, each copied ten ways with
// ImageMagick, the corpus's known lossy copies, 290 consecutive clip
// frames, its adjacent slices, every pair of the README's similar-but-
// distinct groups (stereo pairs, sequences, repeated acquisitions) and every
// other pair of distinct photos and PNG/JPEG medical images (the set of the
// robustness study in hash/; internal/corpusinfo names the groups).
// Columns: pairs with pHash <= 8, those passing the thumbnail and PDQ
// thresholds, and those also passing the metadata rule; then min, median
// and max of pHash distance, PDQ distance, thumbnail correlation and
// difference (`go test ./bench -run TestVerifyStudy -v`):
//
//	pairs                          n  pH<=8 thumbs accept  pHash    PDQ        corr               diff
//	copy: crop 2%                 20     18      2      2  0/4/16   28/40/56   0.806/0.947/0.984  0.101/0.183/0.417
//	copy: PNG -depth 8            20     20     20     20  0/0/4    0/4/22     0.993/1.000/1.000  0.000/0.012/0.061
//	copy: -flop (via Dihedral)    20     20     20     20  0/0/2    -          0.993/1.000/1.000  0.000/0.012/0.060
//	copy: gamma 1.2               20     20     20     20  0/2/2    2/8/24     0.992/0.998/1.000  0.016/0.051/0.081
//	copy: JPEG q50                20     20     20     20  0/0/2    0/4/24     0.992/1.000/1.000  0.000/0.011/0.093
//	copy: JPEG q75                20     20     20     20  0/0/2    0/2/24     0.993/1.000/1.000  0.001/0.006/0.065
//	copy: JPEG q90                20     20     20     20  0/0/2    0/2/24     0.993/1.000/1.000  0.001/0.004/0.065
//	copy: PNG re-encode           20     20     20     20  0/0/4    0/4/20     0.993/1.000/1.000  0.000/0.012/0.060
//	copy: resize 50%              20     20     20     20  0/0/2    6/18/38    0.993/0.999/1.000  0.006/0.026/0.087
//	copy: squash to 224x224       20     20     20     20  0/0/2    6/14/36    0.993/1.000/1.000  0.005/0.022/0.062
//	known lossy copies            11     11     11     11  0/0/0    0/2/14     0.985/1.000/1.000  0.001/0.013/0.143
//	adjacent slices of a series    8      4      2      0  0/16/28  28/108/120 0.296/0.975/1.000  0.002/0.326/0.825
//	consecutive clip frames      290    286     63      0  0/4/12   2/36/70    -1.00/0.967/1.000  0.013/0.150/1.728
//	distinct images            16566      0      0      0  16/32/46 96/128/178 -0.80/0.015/0.905  0.299/1.120/1.799
//	similar but distinct         340      9      2      0  0/22/40  10/114/146 -0.83/0.244/1.000  0.000/0.882/1.712
//
// (2026-11-27, after PHash's rounding zeros and PDQZeros. Before them one
// sampled image failed nearly every copy, pHash 10-30 and PDQ 122-126 away
// from its own copies: the rows above then read 19 of 20, max pHash 10-30.)
//
// The PDQ limit was 40 until the study ran with the C codecs (`go test
// -tags "$(make tags)"`): they decode 10 more frames, so the sample differs
// (19 images), and copies of a b0 diffusion MR (JPEG q50-90, squash: PDQ
// 60-76) and of a brick-wall photo (resize, squash: 44) failed on PDQ
// alone, with thumbnails correlating 0.998. A sample three times larger
// (Copies: 120, 603 copies in the pure-Go build, 612 with the C codecs)
// showed the trade: at 40, PDQ alone rejected 7 and 5 benign copies; at
// 56 to 80, and even with PDQ ignored, exactly the same non-copies pass the
// image thresholds (63 clip frames, 2 or 6 adjacent slices, 2 similar-but-
// distinct pairs, all refused by the metadata rule). PDQ is no finer than
// the 32x32 thumbnail, and on noisy images (the b0 MR) JPEG moves it more
// than pHash. The limit is now 80, above the largest benign distance seen
// (76) and far under any distinct pair (96 at least, median 128). With the
// C codecs the default study reads as above but for 19 images per copy
// row, PDQ up to 76 on squashes, and 6 of 14 adjacent slices passing the
// thumbnails (refused by the series rule).
// Every candidate copy but the 2% crops passes; no adjacent slice, clip
// frame, pair of distinct images or similar-but-distinct pair is linked (0
// of 16,566 distinct pairs is even a candidate). The metadata rule does the
// work the thumbnails cannot: 62 of 285 clip-frame candidates and the
// repeated b0 acquisitions pass every image threshold (a static probe makes
// frames as alike as a JPEG re-encoding), and so do rubberwhale1/2, two
// consecutive frames of an optical-flow sequence saved as separate PNGs
// (pHash 2, PDQ 10, correlation 0.998), which no global image measure tells
// from a copy: their names (numbered 1 and 2 in one folder) do. So the
// false-match rate after verification is 0 on distinct pairs and 0 of 340
// on the hard negatives. The sequence rule has a price: two near-identical
// re-encodings saved side by side as img_0041.png and img_0042.png are not
// linked (identical pixels still are), and frames two or more apart are
// not covered. Crops of 2% or more are beyond what the pHash and the
// thumbnails tolerate; Query still returns them, marked unverified. The
// corpus has only three adjacent CT slices (in JPEG 2000, which a pure-Go
// build does not decode): the claim about CT rests on the metadata rule,
// which holds for any series, not on thresholds.
//
// That study measures pairs one at a time. Deciding which images are
// copies is match's job (match.Compare for a pair, match.Groups for the
// clusters), and Clusters only finds the candidates and loads them:
//
//   - pairs of pHashes (own and min-max renderings) within MaxDistance;
//   - pairs of canonical-orientation pHashes within it (rotated and
//     mirrored copies: their own pHashes are 25-30 bits apart);
//   - images sharing a pixel digest, or a SOP Instance UID and frame;
//   - the rescue pass (rescue.go): between datasets that already share
//     many copies, the images of the copy-like side that matched nothing are
//     compared with every image of the other on 8x8 thumbnails, and the 8
//     most alike go to match.Rescue, which verifies only aligned crops
//     (correlation 0.99) or the same picture. A crop of 3-5% a side moves a
//     brain MR slice's pHash 10-16 bits, past any radius a join can afford.
//
// match.Groups then links by rank and cannot-links (see match's package
// documentation): on the quality scenario's real MR series (bench
// RunQuality, `copycat bench quality --scenario all`) no neighbouring
// slice was linked, where thresholds alone linked a quarter of them.
//
// Measured cost (`copycat bench index --n 1000000`, 2 cores, 2026-12-07):
// clusters 4.3 s, of which the two joins 3.5 s (the identity join alone
// 1.0 s: the canonical join holds one or two hashes per image) and loading
// and deciding 0.8 s; 1,488 bytes per image on disk (the canonical pHashes
// add 16 bytes to each image key and to the file record). Inserts, 300,000
// images alternated with the binary before them (0d7b50c): 72,000 and
// 78,000 images/s against 78,000 and 85,000, about 8% slower.
package index
