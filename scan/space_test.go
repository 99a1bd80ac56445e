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
