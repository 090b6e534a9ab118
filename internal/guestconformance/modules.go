package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// module is one line of the module list.
type module struct {
	name string
	// excluded, when set, is why the module is not run at all.
	excluded string
	// known, when set, names a difference from qemu that is understood but
	// not fixed yet: the module runs and is reported, and a failure does
	// not fail the run.
	known string
}

var moduleName = regexp.MustCompile(`^(test_[A-Za-z0-9_.]+|check:[a-z0-9-]+)$`)

// parseModules reads the module list: one module per line (a CPython
// test module, or "check:NAME" for the script checks/NAME.sh), "#" starts
// a comment; "NAME exclude: REASON" leaves a module out; "NAME known:
// REASON" runs it without requiring it to pass.
func parseModules(r io.Reader) ([]module, error) {
	var mods []module
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if !moduleName.MatchString(name) {
			return nil, fmt.Errorf("line %d: %q is not a test module name", n, name)
		}
		if c, ok := strings.CutPrefix(name, "check:"); ok && checkScript(c) == "" {
			return nil, fmt.Errorf("line %d: no script checks/%s.sh", n, c)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: %s listed twice", n, name)
		}
		seen[name] = true
		m := module{name: name}
		switch kind, reason, _ := strings.Cut(rest, ":"); {
		case rest == "":
		case kind == "exclude" && strings.TrimSpace(reason) != "":
			m.excluded = strings.TrimSpace(reason)
		case kind == "known" && strings.TrimSpace(reason) != "":
			m.known = strings.TrimSpace(reason)
		default:
			return nil, fmt.Errorf("line %d: after the module name expected \"exclude: REASON\" or \"known: REASON\", got %q", n, rest)
		}
		mods = append(mods, m)
	}
	return mods, sc.Err()
}
