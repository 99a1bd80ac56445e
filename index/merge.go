package index

import (
	"errors"
	"fmt"
)

// BeginMerge starts writing into dataset name records that were made
// elsewhere: another index's export, being imported. It is BeginWrite with
// two differences. Finish keeps the files this write did not see, since an
// import adds to a dataset (N shard scans of one tree are N imports into
// one dataset) where a scan replaces it. And Finish marks the dataset
// complete only when complete is true and the dataset was complete (or new)
// before: a union that includes part of an interrupted scan stays
// incomplete.
//
// A dataset the index already holds keeps its source; source is recorded
// for a new one. Use Unchanged and Put as a scan does: a file already
// present with the same size and modification time is kept as it is (so
// importing the same export twice changes nothing), any other is replaced.
func (s *Store) BeginMerge(name, source string, complete bool) (*Writer, error) {
	if err := s.checkOpen(true); err != nil {
		return nil, err
	}
	wasComplete := true
	prev, err := s.lookupDataset(name)
	switch {
	case err == nil:
		wasComplete = prev.State == stateComplete
		source = prev.Source
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("merge into %q: %w", name, err)
	}
	sc, err := s.BeginWrite(name, source)
	if err != nil {
		return nil, err
	}
	sc.merge, sc.mergeComplete = true, wasComplete && complete
	return sc, nil
}

// CheckRecord reports whether a file and its images, made outside this
// process (an imported export), can be stored and read back: every field
// within the ranges the record decoders accept, a valid path and frame
// numbers. Put does not check this, because a scan makes its records
// itself; a record it refused to read back would make the index unreadable
// for every reader.
func CheckRecord(f *File, imgs []Image) error {
	if f.Path == "" {
		return fmt.Errorf("%w: empty path", ErrCorrupt)
	}
	if f.Frames < 0 || f.Frames > maxFrames || len(imgs) > maxFrames {
		return fmt.Errorf("%w: file %s: %d frames, %d images", ErrCorrupt, f.Path, f.Frames, len(imgs))
	}
	fr := fileRecord{File: *f, Images: make([]fileImage, len(imgs))}
	for i := range imgs {
		im := imgs[i]
		im.ID = uint64(i) + 1
		fr.Images[i] = fileImageOf(&im, 0)
		if _, _, err := decodeImage(encodeImage(&im, 0)); err != nil {
			return fmt.Errorf("file %s, image %d: %w", f.Path, i, err)
		}
	}
	if _, err := decodeFile(encodeFile(&fr), 0); err != nil {
		return fmt.Errorf("file %s: %w", f.Path, err)
	}
	return nil
}
