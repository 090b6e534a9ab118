package main

import (
	"fmt"
	"io"
	"strings"
)

// describe renders an outcome for a table cell or a log line.
func describe(o outcome) string {
	var b strings.Builder
	b.WriteString(string(o.verdict))
	if o.verdict == passed || o.verdict == failed || o.verdict == skipped {
		var counts []string
		if o.run > 0 {
			counts = append(counts, fmt.Sprintf("%d run", o.run))
		}
		if o.failures > 0 {
			counts = append(counts, fmt.Sprintf("%d failed", o.failures))
		}
		if o.skippedTests > 0 {
			counts = append(counts, fmt.Sprintf("%d skipped", o.skippedTests))
		}
		if o.envChanged {
			counts = append(counts, "env changed")
		}
		if len(counts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(counts, ", "))
		}
	}
	if o.detail != "" {
		fmt.Fprintf(&b, ": %s", o.detail)
	}
	fmt.Fprintf(&b, ", %.0f s", o.seconds)
	return b.String()
}

// writeReport writes the markdown table of results and the list of
// excluded modules, and returns the modules that pass under qemu but not
// in the converted image and are not known differences.
func writeReport(w io.Writer, mods []module, results map[string]*result) (regressions []string) {
	var ran, qemuPass, bothPass int
	fmt.Fprintln(w, "| Module | qemu-riscv64 | Converted image | Note |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, m := range mods {
		r := results[m.name]
		if r == nil {
			continue
		}
		ran++
		note := m.known
		if r.qemu.verdict == passed {
			qemuPass++
			if r.guest.verdict == passed {
				bothPass++
			} else if m.known == "" {
				regressions = append(regressions, m.name)
				note = "**passes under qemu only**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.name, cell(describe(r.qemu)), cell(describe(r.guest)), cell(note))
	}
	fmt.Fprintf(w, "\n%d modules run; %d pass under qemu-riscv64, %d of them in the converted image too.\n", ran, qemuPass, bothPass)
	var excluded []module
	for _, m := range mods {
		if m.excluded != "" {
			excluded = append(excluded, m)
		}
	}
	if len(excluded) > 0 {
		fmt.Fprintln(w, "\nLeft out:")
		fmt.Fprintln(w)
		for _, m := range excluded {
			fmt.Fprintf(w, "- %s: %s\n", m.name, m.excluded)
		}
	}
	return regressions
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
