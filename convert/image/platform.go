package image

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultPlatforms are what c2w converts for when no platform is asked
// for, in order of preference: a multi-platform index gives the first of
// them it has; an image named directly may be any of them. linux/amd64
// comes first, as docker on the usual host picks it: the image a user
// tested is the one converted.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "riscv64"},
}

// formatPlatforms prints platforms as "a or b".
func formatPlatforms(ps []v1.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = FormatPlatform(p)
	}
	return strings.Join(s, " or ")
}

// matchAny reports whether have satisfies one of wants.
func matchAny(have v1.Platform, wants []v1.Platform) bool {
	for _, w := range wants {
		if matchPlatform(have, w) {
			return true
		}
	}
	return false
}

// ParsePlatform parses os/arch[/variant] as docker's --platform does.
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/riscv64", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		if parts[2] == "" {
			return v1.Platform{}, fmt.Errorf("platform %q: empty variant", s)
		}
		p.Variant = parts[2]
	}
	return p, nil
}

// FormatPlatform prints os/arch[/variant].
func FormatPlatform(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matchPlatform reports whether an image of platform have satisfies want.
// An empty wanted variant accepts any variant (as docker does for arm64);
// exact variants are preferred by selectManifest.
func matchPlatform(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || have.Variant == want.Variant
}

// selectManifest picks the image manifest for the first of wants an index
// has. When nothing matches, the error lists the platforms it offers.
func selectManifest(idx *v1.IndexManifest, wants []v1.Platform, what string) (v1.Descriptor, error) {
	for _, want := range wants {
		if d, ok := selectOne(idx, want); ok {
			return d, nil
		}
	}
	var offered []string
	for i := range idx.Manifests {
		d := &idx.Manifests[i]
		if d.Platform != nil && !isAttestation(d) {
			offered = append(offered, FormatPlatform(*d.Platform))
		}
	}
	sort.Strings(offered)
	list := "none (the index names no platforms)"
	if len(offered) > 0 {
		list = strings.Join(dedup(offered), ", ")
	}
	return v1.Descriptor{}, fmt.Errorf("%s has no image for platform %s; it has: %s (choose one with --platform)", what, formatPlatforms(wants), list)
}

// selectOne picks the image manifest for want from an index.
func selectOne(idx *v1.IndexManifest, want v1.Platform) (v1.Descriptor, bool) {
	var best *v1.Descriptor
	for i := range idx.Manifests {
		d := &idx.Manifests[i]
		if d.Platform == nil || isAttestation(d) {
			continue
		}
		if !d.MediaType.IsImage() && !d.MediaType.IsIndex() {
			continue
		}
		if !matchPlatform(*d.Platform, want) {
			continue
		}
		// Prefer an exact variant match (also "no variant" for an empty want).
		if best == nil || (best.Platform.Variant != want.Variant && d.Platform.Variant == want.Variant) {
			best = d
		}
	}
	if best == nil {
		return v1.Descriptor{}, false
	}
	return *best, true
}

func isAttestation(d *v1.Descriptor) bool {
	return d.Platform.OS == "unknown" || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest"
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// CheckRunnable refuses images whose platform the emulator cannot run even
// though the architecture matches: riscv64 images built for the RVA23 profile
// need the vector extension, which the RV64GC CPU does not implement.
func CheckRunnable(p v1.Platform, what string) error {
	if p.Architecture == "riscv64" && strings.HasPrefix(strings.ToLower(p.Variant), "rva23") {
		return fmt.Errorf("%s is built for %s, which requires the RISC-V vector extension (RVA23); the emulator implements RV64GC only — use an image built for plain linux/riscv64 (e.g. Debian trixie or Ubuntu 24.04)", what, FormatPlatform(p))
	}
	return nil
}
