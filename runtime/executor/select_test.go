package executor

import (
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	wasm, elf, script := []byte("\x00asm\x01\x00\x00\x00"), []byte("\x7fELF\x02"), []byte("#!/bin/sh\n")
	h := func(v string) map[string]string { return map[string]string{AnnotationHandler: v} }
	v := func(v string) map[string]string { return map[string]string{AnnotationVariant: v} }
	cases := []struct {
		name        string
		annotations map[string]string
		program     string
		header      []byte
		want        Kind
		err         string
	}{
		{"content wasm", nil, "/app", wasm, KindWasm, ""},
		{"content elf", nil, "/app.wasm", elf, KindNative, ""},
		{"content script", nil, "run", script, KindNative, ""},
		{"unreadable", nil, "/app.wasm", nil, KindNative, ""},
		{"short", nil, "/app", []byte("\x00as"), KindNative, ""},
		{"handler wasm forces", h("wasm"), "/bin/sh", elf, KindWasm, ""},
		{"wasm-smart by name", h("wasm-smart"), "/app.wasm#run", elf, KindWasm, ""},
		{"wasm-smart text", h("wasm-smart"), "app.wat", nil, KindWasm, ""},
		{"wasm-smart ignores content", h("wasm-smart"), "/sidecar", wasm, KindNative, ""},
		{"unknown handler", h("krun"), "/app.wasm", wasm, KindNative, `unknown handler "krun"`},
		{"handler before variant", map[string]string{AnnotationHandler: "wasm-smart", AnnotationVariant: "compat"}, "/bin/sh", elf, KindNative, ""},
		{"compat forces", v("compat"), "/bin/sh", elf, KindWasm, ""},
		{"compat-smart", v("compat-smart"), "/bin/sh", wasm, KindNative, ""},
		{"unknown variant ignored", v("other"), "/app", wasm, KindWasm, ""},
	}
	for _, c := range cases {
		got, err := Select(c.annotations, c.program, c.header)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestSplitEntry(t *testing.T) {
	for in, want := range map[string][2]string{
		"/app.wasm": {"/app.wasm", ""}, "/app.wasm#run": {"/app.wasm", "run"}, "a#b#c": {"a", "b#c"},
	} {
		if f, e := SplitEntry(in); f != want[0] || e != want[1] {
			t.Errorf("SplitEntry(%q) = %q, %q", in, f, e)
		}
	}
}
