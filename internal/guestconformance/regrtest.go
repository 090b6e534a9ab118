package main

import (
	"regexp"
	"strconv"
	"strings"
)

// verdict is what one run of one test module came to.
type verdict string

const (
	passed  verdict = "pass"
	failed  verdict = "fail"
	skipped verdict = "skip"
	// crashed: the run ended without regrtest's summary (the interpreter
	// died, or the emulator did).
	crashed  verdict = "crash"
	timedOut verdict = "timeout"
)

// outcome is a module's verdict with the counts regrtest printed.
type outcome struct {
	verdict verdict
	// run, failures and skippedTests are regrtest's "Total tests:" counts.
	run, failures, skippedTests int
	// envChanged is set when regrtest reported the module altered its
	// environment (threads, files, signal handlers left behind): still a
	// pass, as regrtest itself counts it without --fail-env-changed.
	envChanged bool
	seconds    float64
	// detail is a short hint for the report: the first failing test, or
	// the last line before a crash.
	detail string
}

var (
	totalTests = regexp.MustCompile(`(?m)^Total tests: (.*)$`)
	totalFiles = regexp.MustCompile(`(?m)^Total test files: (.*)$`)
	// A failing test case, as unittest reports it in its summary:
	// "FAIL: test_x (mod.Class.test_x)" or "ERROR: test_x (...)".
	failingCase = regexp.MustCompile(`(?m)^(?:FAIL|ERROR): (test\S*)`)
)

// parseRegrtest reads the output of "python3 -m test MODULE" (one module,
// run in-process) and returns its outcome.
func parseRegrtest(out string) outcome {
	var o outcome
	files := totalFiles.FindStringSubmatch(out)
	if files == nil {
		o.verdict = crashed
		o.detail = lastLine(out)
		return o
	}
	if m := totalTests.FindStringSubmatch(out); m != nil {
		counts := fields(m[1])
		o.run, o.failures, o.skippedTests = counts["run"], counts["failures"], counts["skipped"]
	}
	counts := fields(files[1])
	switch {
	case counts["failed"] > 0:
		o.verdict = failed
		if m := failingCase.FindStringSubmatch(out); m != nil {
			o.detail = m[1]
		}
	case counts["skipped"] > 0 || counts["resource_denied"] > 0 || counts["run_no_tests"] > 0:
		o.verdict = skipped
	default:
		o.verdict = passed
		o.envChanged = counts["env_changed"] > 0
	}
	return o
}

// fields parses "run=12 failures=1 skipped=2" (numbers may carry thousands
// separators; "run=1/1" counts 1).
func fields(s string) map[string]int {
	m := map[string]int{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, "/")
		n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
		if err == nil {
			m[k] = n
		}
	}
	return m
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
