package main

import (
	"embed"
	"fmt"
	"regexp"
	"strings"
)

// Checks are shell scripts run the same way on both sides, for programs
// whose own test suites Debian does not package (checks/NAME.sh, listed as
// "check:NAME"). A script prints "PASS name" or "FAIL name: why" for each
// thing it checks and exits 0 when all passed.
//
//go:embed checks/*.sh
var checks embed.FS

// checkScript returns the script of the check name, or "" if there is
// none.
func checkScript(name string) string {
	b, err := checks.ReadFile("checks/" + name + ".sh")
	if err != nil {
		return ""
	}
	return string(b)
}

var (
	checkPass = regexp.MustCompile(`(?m)^PASS \S`)
	checkFail = regexp.MustCompile(`(?m)^FAIL (.*)$`)
)

// parseCheck reads a check's output and exit (runErr, from exec) as an
// outcome.
func parseCheck(out string, runErr error) outcome {
	passes, fails := checkPass.FindAllString(out, -1), checkFail.FindAllStringSubmatch(out, -1)
	o := outcome{run: len(passes) + len(fails), failures: len(fails)}
	switch {
	case len(fails) > 0:
		o.verdict, o.detail = failed, fails[0][1]
	case runErr != nil:
		o.verdict, o.detail = crashed, fmt.Sprintf("%v: %s", runErr, lastLine(out))
	case len(passes) == 0:
		o.verdict, o.detail = crashed, "no checks reported: "+lastLine(strings.TrimSpace(out))
	default:
		o.verdict = passed
	}
	return o
}
