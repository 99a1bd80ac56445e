package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/copycat-dev/copycat/internal/testkit"
)

// TestMain lets the test binary act as the copycat binary, so tests can
// signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("COPYCAT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSIGINTStopsCleanly interrupts a real scan process: it exits with 130,
// says how to resume, keeps what it wrote, and the same command then
// finishes the dataset without redoing the files already indexed.
func TestSIGINTStopsCleanly(t *testing.T) {
	if raceEnabled {
		t.Skip("scans the corpus in a child process: a minute under -race; make test runs it without")
	}
	corpus := testkit.Corpus(t) // the only dataset big enough to interrupt
	idx := filepath.Join(t.TempDir(), "idx")
	scanCmd := func() *exec.Cmd {
		c := exec.Command(os.Args[0], "scan", "--workers", "1", "--index", idx, "corpus="+corpus)
		c.Env = append(os.Environ(), "COPYCAT_TEST_MAIN=1")
		return c
	}
	c := scanCmd()
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Skipf("scan finished before the signal (err %v): machine too fast for this test", err)
	}
	if got := ee.ExitCode(); got != exitInterrupt {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", got, exitInterrupt, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Run the same command again to resume") {
		t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
	}
	// The rerun completes and skips what the interrupted run indexed.
	c = scanCmd()
	c.Args = append(c.Args[:1], append([]string{"scan", "--json"}, c.Args[2:]...)...)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	var sum struct {
		Datasets []struct {
			Files, Unchanged int
		}
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("rerun JSON: %v\n%s", err, out)
	}
	d := sum.Datasets[0]
	if d.Unchanged == 0 || d.Files < 270 {
		t.Errorf("rerun: %d files, %d unchanged; want the whole corpus with the interrupted run's files unchanged", d.Files, d.Unchanged)
	}
	t.Logf("interrupted run kept %d of %d files", d.Unchanged, d.Files)
}
