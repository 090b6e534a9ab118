// Command guestconformance measures the emulator's Linux layer against
// test suites no one here wrote: it runs CPython's own regression tests
// (Debian's libpython3.13-testsuite, in the python-tests fixture image) in
// the image converted by c2w and, on the same root filesystem, under
// qemu-riscv64 (the host kernel's system calls, the oracle), one test
// module at a time, and compares the verdicts module by module.
//
// It owns the list of modules (modules.txt: which run, which are left out
// and why), the two ways of running a module with the same environment,
// reading regrtest's verdict from its output, and the report: a markdown
// table for docs/conformance.md. It exits 1 when a module that passes under
// qemu does not pass in the converted image.
//
// scripts/conformance-guest.sh prepares what it needs (qemu-user-static
// registered with binfmt_misc, so that programs the tests start run under
// qemu too; the fixtures; a c2w binary) and runs it as root: the qemu side
// runs in a chroot inside its own mount and pid namespaces, with /proc and
// /dev mounted.
package main
