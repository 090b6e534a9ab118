package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/wasmrt/wasmrt/runtime/internal/idmap"
	"github.com/wasmrt/wasmrt/runtime/internal/linux"
)

// idmappedMount is a detached, idmapped clone of one spec mount's source.
type idmappedMount struct {
	index int
	tree  *os.File
}

// prepareIDMappedMounts clones the source of every idmapped mount in the
// runtime's own namespaces, where it is privileged over the source's
// filesystem, and applies the mount's mappings (or the container's user
// namespace mappings when the mount has none). The init moves the clones
// into the container's root filesystem in mount order. Relative sources
// are relative to the bundle. The caller closes the returned files.
func prepareIDMappedMounts(bundle string, spec *specs.Spec) (mounts []idmappedMount, err error) {
	usernsByMapping := map[string]*os.File{}
	defer func() {
		for _, f := range usernsByMapping {
			f.Close()
		}
		if err != nil {
			for _, m := range mounts {
				m.tree.Close()
			}
			mounts = nil
		}
	}()
	for i, m := range spec.Mounts {
		mapped, recursiveMap, recursiveClone := linux.MountIDMapping(m)
		if !mapped {
			continue
		}
		uids, gids := m.UIDMappings, m.GIDMappings
		if len(uids) == 0 {
			uids, gids = spec.Linux.UIDMappings, spec.Linux.GIDMappings
		}
		key := idmap.FormatMappings(uids) + "/" + idmap.FormatMappings(gids)
		userns, ok := usernsByMapping[key]
		if !ok {
			if userns, err = idmap.UserNamespace(uids, gids); err != nil {
				return mounts, fmt.Errorf("mounts[%d] (source %s): %w", i, m.Source, err)
			}
			usernsByMapping[key] = userns
		}
		source := m.Source
		if !filepath.IsAbs(source) {
			source = filepath.Join(bundle, source)
		}
		tree, err := idmap.Clone(source, userns, recursiveClone, recursiveMap)
		if err != nil {
			return mounts, fmt.Errorf("mounts[%d] (source %s): %w", i, m.Source, err)
		}
		mounts = append(mounts, idmappedMount{index: i, tree: tree})
	}
	return mounts, nil
}
