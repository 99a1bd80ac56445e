package scan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExistingAncestor(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, dir, want string
	}{
		{"exists", dir, dir},
		{"one level missing", filepath.Join(dir, "idx"), dir},
		{"several levels missing", filepath.Join(dir, "a", "b", "idx"), dir},
		{"relative", "copycat-index-that-does-not-exist", "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := existingAncestor(tt.dir); got != tt.want {
				t.Errorf("existingAncestor(%q) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestSpaceError(t *testing.T) {
	var err error = &SpaceError{Dir: "/mnt/idx", Free: 3 << 20, Need: MinFreeSpace}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Error("errors.Is(err, syscall.ENOSPC) = false")
	}
	msg := err.Error()
	for _, want := range []string{"/mnt/idx", "no space left on device", "3.0 MB free", "128.0 MB"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}

// TestCheckIndexDirRefusesUnwritable checks the refusal before the index
// opens, for a user that permissions apply to.
func TestCheckIndexDirRefusesUnwritable(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close()
		t.Skip("this user writes in a 0555 folder (root): cmd/copycat's fault tests cover it as nobody")
	}
	err := CheckIndexDir(filepath.Join(ro, "idx"), 0)
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("CheckIndexDir in a 0555 folder: %v, want a permission error saying it is not writable", err)
	}
}

// TestCheckIndexDirRefusesVirtualFS checks that an index asked for under
// /proc is refused as not writable, not as a full disk (/proc reports no
// free blocks), whoever runs the test.
func TestCheckIndexDirRefusesVirtualFS(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("no /proc here")
	}
	err := CheckIndexDir("/proc/copycat-index", 0)
	var se *SpaceError
	if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("CheckIndexDir under /proc: %v, want not writable (and no SpaceError)", err)
	}
}

// TestFloorNeed checks the floor's arithmetic: a fixed floor stays put, a
// measured one shrinks as files are processed and never exceeds
// MinFreeSpace.
func TestFloorNeed(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name      string
		floor     *Floor
		processed []int64
		opened    bool
		want      uint64
	}{
		{"fixed", FixedFloor(5 * mb), []int64{1 * mb}, true, 5 * mb},
		{"fixed default", FixedFloor(0), nil, false, MinFreeSpace},
		{"empty job", &Floor{measured: true}, nil, false, spaceSlack},
		{"job before open", &Floor{measured: true, write: 2 * mb}, nil, false, 3*2*mb + spaceSlack},
		{"job once open", &Floor{measured: true, write: 2 * mb}, nil, true, 3*2*mb + spaceSlack - openWrite},
		// One 4 MB file done: 8 KiB + 1 MB of the 2 MB written.
		{"half done", &Floor{measured: true, write: 2 * mb}, []int64{4 * mb}, false,
			3*(2*mb-(mb+perFileWrite)) + mb + perFileWrite + spaceSlack},
		{"done counts no more than the job", &Floor{measured: true, write: 2 * mb}, []int64{40 * mb}, false, 2*mb + spaceSlack},
		{"big job", &Floor{measured: true, write: 100 * mb}, nil, false, MinFreeSpace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range tt.processed {
				tt.floor.processed(size)
			}
			tt.floor.opened = tt.opened
			if got := tt.floor.Need(); got != tt.want {
				t.Errorf("Need() = %d, want %d", got, tt.want)
			}
		})
	}
}
