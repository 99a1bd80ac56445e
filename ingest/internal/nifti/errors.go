package nifti

import "github.com/copycat-dev/copycat/ingest/internal/decodeerr"

// Decode reports bad input with the error types of package decodeerr
// (corrupt, unsupported, too large), which ingest maps onto its own; it
// returns them unwrapped, and an error from emit as is.
var (
	corruptf     = decodeerr.Format("nifti").Corruptf
	unsupportedf = decodeerr.Unsupportedf
)
