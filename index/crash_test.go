package index

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test runs a real writer in a child process (this test binary,
// re-executed in child mode), kills it with SIGKILL at random moments, and
// checks after every kill that the index opens (read-only and for writing),
// is consistent, and that a final scan completes it with exact counts.

const (
	crashEnvDir  = "COPYCAT_INDEX_CRASH_DIR"
	crashEnvSeed = "COPYCAT_INDEX_CRASH_SEED"
	crashFiles   = 150
)

// crashSeed is the content of file i in round round: a third of the files
// change every round, so rescans both skip and rewrite.
func crashSeed(i, round int) uint64 {
	if i%3 == round%3 {
		return uint64(i + 1000*(round%5))
	}
	return uint64(i)
}

func crashFrames(seed uint64) int { return 1 + int(seed%4) }

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestSIGKILLMidScan only")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashEnvSeed), 10, 64)
	s, err := Open(dir, Options{BatchFiles: 5, FlushInterval: time.Millisecond})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := int(seed); ; round++ {
		sc, err := s.BeginWrite("crash", "/crash")
		if err != nil {
			fmt.Println("begin failed:", err)
			os.Exit(4)
		}
		// Each round also drops a few files, which Finish sweeps.
		for i := range crashFiles {
			if rng.IntN(20) == 0 {
				continue
			}
			sd := crashSeed(i, round)
			if err := scanOne(sc, fmt.Sprintf("dir/%03d.dcm", i), sd, crashFrames(sd)); err != nil {
				fmt.Println("scan failed:", err)
				os.Exit(5)
			}
		}
		if _, err := sc.Finish(); err != nil {
			os.Exit(7)
		}
		// Forget and rebuild a second dataset now and then, so kills also
		// land inside Forget.
		if round%4 == 0 {
			_ = s.Forget(t.Context(), "other")
			scanFilesNoTB(s, "other", round)
		}
	}
}

// scanFilesNoTB is scanFiles for the child, which has no usable testing.TB
// once the parent kills it.
func scanFilesNoTB(s *Store, name string, round int) {
	sc, err := s.BeginWrite(name, "/"+name)
	if err != nil {
		os.Exit(8)
	}
	for i := range 30 {
		if err := scanOne(sc, fmt.Sprintf("o/%d", i), crashSeed(i, round), 2); err != nil {
			os.Exit(9)
		}
	}
	if _, err := sc.Finish(); err != nil {
		os.Exit(10)
	}
}

func TestSIGKILLMidScan(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test: skipped with -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	const kills = 6
	for k := range kills {
		cmd := startChild(t, "TestCrashChild", crashEnvDir+"="+dir, crashEnvSeed+"="+strconv.Itoa(k*7))
		// While the child writes, a second writer and a reader are refused.
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
			t.Errorf("kill %d: a second writer got err = %v, want ErrLocked", k, err)
		}
		if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, ErrLocked) {
			t.Errorf("kill %d: a reader during the scan got err = %v, want ErrLocked", k, err)
		}
		delay := time.Duration(50+rng.IntN(700)) * time.Millisecond
		time.Sleep(delay)
		killChild(t, cmd, fmt.Sprintf("kill %d (delay %v)", k, delay))
		// The crashed index opens read-only (Badger replays its log without
		// writing) and for writing, and is consistent both ways.
		for _, ro := range []bool{true, false} {
			s, err := Open(dir, Options{ReadOnly: ro})
			if err != nil {
				t.Fatalf("kill %d after %v: open (read-only %v): %v", k, delay, ro, err)
			}
			rep, err := s.Check(t.Context())
			if err != nil {
				t.Fatalf("kill %d: check: %v", k, err)
			}
			if !rep.OK() {
				_ = s.Close()
				// Say what the other kind of open sees of the same state:
				// it tells a replay problem from a write that was wrong.
				other := "not checked"
				if s2, err := Open(dir, Options{ReadOnly: !ro}); err == nil {
					if rep2, err := s2.Check(t.Context()); err == nil {
						other = fmt.Sprintf("%d problems", rep2.ProblemsFound)
					}
					_ = s2.Close()
				}
				t.Fatalf("kill %d after %v: index inconsistent (read-only %v): %d problems (read-only %v: %s), %d files, %d images:\n%s",
					k, delay, ro, rep.ProblemsFound, !ro, other, rep.Files, rep.Images, strings.Join(rep.Problems, "\n"))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			t.Logf("kill %d after %v: %d files, %d images, consistent", k, delay, rep.Files, rep.Images)
		}
	}
	// A final scan of a known file set completes the dataset exactly.
	s := openStoreAt(t, dir, Options{})
	final := map[string]uint64{}
	wantImages := 0
	for i := range crashFiles {
		sd := crashSeed(i, 99)
		final[fmt.Sprintf("dir/%03d.dcm", i)] = sd
		if sd%7 != 3 { // scanFiles records seed%7==3 as failures
			wantImages += crashFrames(sd)
		}
	}
	res := scanFiles(t, s, "crash", final, crashFrames)
	if res.Files != crashFiles || res.Images != wantImages {
		t.Errorf("final scan: %+v, want %d files and %d images", res, crashFiles, wantImages)
	}
	// And once more, unchanged: nothing is rewritten or lost.
	res = scanFiles(t, s, "crash", final, crashFrames)
	if res.Files != crashFiles || res.Images != wantImages || res.Unchanged != crashFiles {
		t.Errorf("unchanged rescan: %+v, want %d files, %d images, all unchanged", res, crashFiles, wantImages)
	}
	mustCheck(t, s)
}

// startChild runs the child test named test in a new process of this test
// binary, with env added, and waits until it prints "ready".
func startChild(tb testing.TB, test string, env ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatalf("%s: child said %q, want ready", test, line)
	}
	return cmd
}

// killChild kills a child with SIGKILL and checks it was still running.
func killChild(tb testing.TB, cmd *exec.Cmd, what string) {
	tb.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		tb.Fatalf("%s: child ended with %v before the kill", what, err)
	}
}
