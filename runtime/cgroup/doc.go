// Package cgroup places containers in cgroups and translates the
// runtime-spec's linux.resources into limits.
//
// The controller work (cgroup v1 hierarchies, the v2 unified hierarchy, the
// v2 eBPF device filter, freezing and statistics) is delegated to
// github.com/opencontainers/cgroups, the library runc itself uses, so the
// behaviour matches the reference runtime on both hierarchies. This package
// owns the parts the library leaves to its caller: resolving cgroupsPath,
// converting the spec's resource types, the default device rules every
// container gets, and the state that lets a later command find the cgroup.
package cgroup
