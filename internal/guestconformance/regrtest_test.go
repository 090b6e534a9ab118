package main

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestParseRegrtest reads outputs regrtest really printed (pass.log:
// test_pwd under qemu; fail.log: test_threadsignals with two failures;
// skip.log: test_winreg, skipped as a whole) and a run cut short.
func TestParseRegrtest(t *testing.T) {
	for _, tc := range []struct {
		file string
		want outcome
	}{
		{"testdata/pass.log", outcome{verdict: passed, run: 3}},
		{"testdata/fail.log", outcome{verdict: failed, run: 6, failures: 2, detail: "test_lock_acquire_interruption"}},
		{"testdata/skip.log", outcome{verdict: skipped}},
	} {
		out, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseRegrtest(string(out)); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.file, got, tc.want)
		}
		// Cut before the summary: the interpreter (or the emulator) died.
		cut := string(out[:strings.Index(string(out), "Total tests:")])
		if got := parseRegrtest(cut); got.verdict != crashed {
			t.Errorf("%s cut before its summary: verdict %s, want crash", tc.file, got.verdict)
		}
	}
}

func TestParseModules(t *testing.T) {
	mods, err := parseModules(strings.NewReader("# comment\ntest_a\ntest_b known: needs x # why\n\ntest_c exclude: too slow\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []module{{name: "test_a"}, {name: "test_b", known: "needs x"}, {name: "test_c", excluded: "too slow"}}
	if len(mods) != len(want) {
		t.Fatalf("got %+v", mods)
	}
	for i := range want {
		if mods[i] != want[i] {
			t.Errorf("module %d: got %+v, want %+v", i, mods[i], want[i])
		}
	}
	for _, bad := range []string{"test_a\ntest_a\n", "notatest\n", "test_a maybe: x\n", "test_a known:\n"} {
		if _, err := parseModules(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestParseCheck reads the outputs of a check script: all passed, one
// failed, and a script that died without reporting.
func TestParseCheck(t *testing.T) {
	exit1 := errors.New("exit status 1")
	for _, tc := range []struct {
		out  string
		err  error
		want outcome
	}{
		{"PASS a\nPASS b c\n", nil, outcome{verdict: passed, run: 2}},
		{"PASS a\nFAIL rows: got '3', want '4'\nPASS c\n", exit1, outcome{verdict: failed, run: 3, failures: 1, detail: "rows: got '3', want '4'"}},
		{"PASS a\nsh: 1: sqlite3: not found\n", exit1, outcome{verdict: crashed, run: 1, detail: "exit status 1: sh: 1: sqlite3: not found"}},
		{"", nil, outcome{verdict: crashed, detail: "no checks reported: "}},
	} {
		if got := parseCheck(tc.out, tc.err); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.out, got, tc.want)
		}
	}
	for _, m := range []string{"sqlite3-wal"} {
		if checkScript(m) == "" {
			t.Errorf("check %s has no script", m)
		}
	}
}
