// Package pipeline is copycat's scan and pair search as Apache Beam
// pipelines, for corpora past one machine. Both steps run copycat's own
// code on the workers, so their output equals what copycat computes on
// one machine:
//
//   - Fingerprint cuts every dataset into shards (scan.Shard) and scans
//     each on a worker with the scan's own worker (scan.Records), writing
//     an export folder per shard that `copycat import` merges.
//   - Pairs reads exports' images and finds the verified pairs: every
//     image's search hashes (index.SearchHashesOf) are emitted under their
//     multi-index-hashing chunk keys (index.ChunkPlan), grouped by key,
//     compared within groups (each pair reported by one key only), joined
//     with both images' records and verified with match.Compare. Keys
//     shared by more than HotKey images (blank frames) are counted first
//     and split into cells. The pairs files go to `copycat import --pairs`.
//
// The runner is Beam's: Prism in-process for tests and small jobs, Flink,
// Spark or Dataflow at scale.
package pipeline
