// Package rootfs flattens OCI image layers into one root file system and
// writes it in the emulator's rootfs image format (see docs/rootfs-format.md
// and package emulator/rootfs, which reads it).
//
// It owns three things:
//   - Tree: the flattened file system, metadata in memory and regular-file
//     content in an unlinked spill file, so a crash leaves nothing on disk.
//   - Applying layers (uncompressed tar streams) to a Tree with OCI whiteout
//     semantics, treating every layer as hostile: nothing is ever created on
//     the host, names are resolved inside the tree only, and size budgets bound
//     what a layer can make us store.
//   - Writing a Tree as a rootfs image (Write), and listing a rootfs image
//     the way GNU tar lists an archive (List, for c2w rootfs --list; kept
//     here rather than in the reader so the emulator does not carry it).
package rootfs
