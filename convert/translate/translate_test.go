package translate

import "testing"

func TestParseMode(t *testing.T) {
	for _, s := range []string{"none", "all", "trained"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "All", "train", "some"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) accepted", s)
		}
	}
}

// TestHot: pages are chosen by their share of the profile's instructions;
// a page that executed nothing is never chosen, not even with fraction 0.
func TestHot(t *testing.T) {
	p := Profile{{1, 0}: 9000, {1, 4096}: 999, {2, 0}: 1, {3, 0}: 0}
	cases := []struct {
		fraction float64
		want     map[Page]bool
	}{
		{0, map[Page]bool{{1, 0}: true, {1, 4096}: true, {2, 0}: true}},
		{0.0001, map[Page]bool{{1, 0}: true, {1, 4096}: true, {2, 0}: true}},
		{0.1, map[Page]bool{{1, 0}: true}},
		{0.09, map[Page]bool{{1, 0}: true, {1, 4096}: true}},
		{1, nil},
	}
	for _, c := range cases {
		hot := p.Hot(c.fraction)
		for _, pg := range []Page{{1, 0}, {1, 4096}, {2, 0}, {3, 0}, {9, 0}} {
			if got := hot(pg); got != c.want[pg] {
				t.Errorf("Hot(%v)(%v) = %v, want %v", c.fraction, pg, got, c.want[pg])
			}
		}
	}
}
