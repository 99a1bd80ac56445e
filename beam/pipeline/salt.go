package pipeline

import (
	"context"
	"fmt"

	"github.com/copycat-dev/copycat/index"
)

// IndexSalt returns the salt of the index in dir, opened read-only: the
// fingerprint step keys patient-ID digests with the salt of the index its
// parts will be imported into, so that they compare there.
func IndexSalt(ctx context.Context, dir string) ([]byte, error) {
	st, err := index.OpenContext(ctx, dir, index.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("salt of %s: %w", dir, err)
	}
	salt := append([]byte(nil), st.Salt()...)
	return salt, st.Close()
}
