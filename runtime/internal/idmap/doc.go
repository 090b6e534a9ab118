// Package idmap builds idmapped mounts for the runtime's parent side.
//
// An idmapped mount (mount_setattr(2) with MOUNT_ATTR_IDMAP) shows a
// filesystem's owners through a user namespace's mapping: an id stored on
// disk is read as a "container" id of the namespace's uid_map/gid_map and
// presented as the matching "host" id, and ids written through the mount
// are mapped back. The kernel only accepts the attribute on a detached
// mount (a clone made by open_tree(2) with OPEN_TREE_CLONE), set by a
// caller privileged over the filesystem, so the runtime prepares these
// mounts in its own namespaces and hands the detached mounts to the
// container's init, which moves them into place with move_mount(2).
//
// The mapping needs a user namespace to refer to. UserNamespace makes one
// with a short-lived child process (created with clone(CLONE_NEWUSER) by a
// small C helper, since a multi-threaded Go process cannot unshare a user
// namespace), writes the mappings to the child's uid_map and gid_map, opens
// /proc/<pid>/ns/user and kills the child; the open descriptor keeps the
// namespace alive.
package idmap
