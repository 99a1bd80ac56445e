package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/copycat-dev/copycat/index"
)

func TestCheck(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	idx := filepath.Join(t.TempDir(), "idx")
	if code, _, stderr := runCmd(t, nil, "scan", "--index", idx, filepath.Join(demo, "original"), filepath.Join(demo, "broken")); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	tests := []struct {
		name   string
		vars   map[string]string
		args   []string
		code   int
		stdout string // a substring the output must contain
	}{
		{"consistent", nil, []string{"check", "--index", idx}, exitOK, "consistent"},
		{"index from the environment", map[string]string{"COPYCAT_INDEX": idx}, []string{"check"}, exitOK, "consistent"},
		{"json", nil, []string{"check", "--json", "--index", idx}, exitOK, `"ok": true`},
		{"no index", nil, []string{"check", "--index", filepath.Join(t.TempDir(), "none")}, exitFailure, ""},
		{"argument", nil, []string{"check", "--index", idx, "extra"}, exitUsage, ""},
		{"bad flag", nil, []string{"check", "--nope"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.vars, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d (stderr: %s)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tt.stdout)
			}
		})
	}

	// The JSON counts agree with what datasets reports.
	_, stdout, _ := runCmd(t, nil, "check", "--json", "--index", idx)
	var got struct {
		OK       bool     `json:"ok"`
		Datasets int      `json:"datasets"`
		Files    int      `json:"files"`
		Images   int      `json:"images"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	_, dsOut, _ := runCmd(t, nil, "datasets", "--json", "--index", idx)
	var ds struct {
		Datasets []struct{ Files, Images int } `json:"datasets"`
	}
	if err := json.Unmarshal([]byte(dsOut), &ds); err != nil {
		t.Fatalf("datasets JSON: %v\n%s", err, dsOut)
	}
	var files, images int
	for _, d := range ds.Datasets {
		files += d.Files
		images += d.Images
	}
	if !got.OK || got.Problems == nil || got.Datasets != len(ds.Datasets) || got.Files != files || got.Images != images || images == 0 {
		t.Errorf("check says %+v; datasets says %d datasets, %d files, %d images", got, len(ds.Datasets), files, images)
	}
}

// TestCheckReportsProblems checks the output and the error for an
// inconsistent index. The index's invariants cannot be broken through its
// API, so the report is made up.
func TestCheckReportsProblems(t *testing.T) {
	many := make([]string, index.MaxCheckProblems)
	for i := range many {
		many[i] = "image 1 has no file record"
	}
	tests := []struct {
		name    string
		rep     index.CheckReport
		json    bool
		wantOut []string
		wantErr string
	}{
		{"ok", index.CheckReport{Datasets: 1, Files: 2, Images: 3}, false,
			[]string{"1 datasets, 2 files, 3 images", "consistent"}, ""},
		{"problems", index.CheckReport{Files: 2, Problems: []string{"file \"a.png\" lists image 7, which does not exist", "image 9 has no file record"}}, false,
			[]string{"  file \"a.png\" lists image 7", "  image 9 has no file record"}, "inconsistent: 2 problems"},
		{"problems json", index.CheckReport{Problems: []string{"image 9 has no file record"}}, true,
			[]string{`"ok": false`, `"image 9 has no file record"`, `"problems_truncated": false`}, "inconsistent: 1 problems"},
		{"truncated", index.CheckReport{Problems: many, ProblemsFound: 130}, true,
			[]string{`"problems_truncated": true`, `"problems_found": 130`}, "130 problems (100 listed)"},
		{"truncated text", index.CheckReport{Problems: many, ProblemsFound: 130}, false,
			[]string{"  ... and 30 more"}, "130 problems (100 listed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := printCheck(&env{stdout: &out}, "idx", tt.rep, tt.json)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if (tt.wantErr == "") != (err == nil) || !strings.Contains(gotErr, tt.wantErr) {
				t.Errorf("error %q, want one containing %q", gotErr, tt.wantErr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, out.String())
				}
			}
			if !tt.json && tt.wantErr != "" && strings.Contains(out.String(), "consistent\n") {
				t.Errorf("inconsistent index printed as consistent:\n%s", out.String())
			}
		})
	}
}
