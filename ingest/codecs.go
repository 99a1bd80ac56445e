package ingest

import (
	"github.com/copycat-dev/copycat/ingest/internal/codec/graypng"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpeg2000"
	"github.com/copycat-dev/copycat/ingest/internal/codec/jpegls"
	"github.com/copycat-dev/copycat/ingest/internal/codec/spng"
	"github.com/copycat-dev/copycat/ingest/internal/codec/turbojpeg"
)

// Codecs lists the optional C codecs built into this binary: "charls"
// (JPEG-LS), "openjpeg" (JPEG 2000), "turbojpeg" (reduced-scale JPEG),
// "spng" (faster PNG, same pixels) and "libdeflate" (faster grey PNG,
// same pixels). Which files decode, and a few hash bits of JPEG colour
// images, depend on them, so reports and tests that pin figures say which
// build they ran.
func Codecs() []string {
	var out []string
	if jpegls.Available {
		out = append(out, "charls")
	}
	if jpeg2000.Available {
		out = append(out, "openjpeg")
	}
	if turbojpeg.Available {
		out = append(out, "turbojpeg")
	}
	if spng.Available {
		out = append(out, "spng")
	}
	if graypng.Inflater == "libdeflate" {
		out = append(out, "libdeflate")
	}
	return out
}
