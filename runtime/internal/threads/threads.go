package threads

// #cgo CFLAGS: -Wall -O2
// #include "threads.h"
import "C"

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Target is the most a thread may keep: capability sets as bit masks
// (bit N is capability N) and the highest capability the kernel knows.
type Target struct {
	Bounding, Permitted, Effective, Inheritable uint64
	LastCap                                     int
}

// State is one thread's privileges as /proc/self/task/TID/status shows
// them.
type State struct {
	TID                                                  int
	Bounding, Permitted, Effective, Inheritable, Ambient uint64
	NoNewPrivs                                           bool
}

// Within reports whether the thread holds no more than t allows (see the
// package documentation for the bounding set of a thread without
// CAP_SETPCAP).
func (s State) Within(t Target) bool {
	const setpcap = 1 << unix.CAP_SETPCAP
	return s.Permitted&^t.Permitted == 0 && s.Effective&^t.Effective == 0 &&
		s.Inheritable&^t.Inheritable == 0 && s.Ambient == 0 && s.NoNewPrivs &&
		(s.Bounding&^t.Bounding == 0 || s.Permitted&setpcap == 0)
}

// procRoot is where the process's own procfs must be mounted.
const procRoot = "/proc"

// CheckProc makes sure /proc is a procfs of the caller's PID namespace:
// thread ids read from it are then the ones tgkill takes.
func CheckProc() error {
	var fs unix.Statfs_t
	if err := unix.Statfs(procRoot+"/self/task", &fs); err != nil {
		return fmt.Errorf("%s/self/task: %w (a container whose program runs in the runtime's process needs procfs at /proc)", procRoot, err)
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s is not a procfs (type %#x)", procRoot, fs.Type)
	}
	self, err := os.Readlink(procRoot + "/self")
	if err != nil || self != strconv.Itoa(os.Getpid()) {
		return fmt.Errorf("%s is the procfs of another PID namespace (self is %q, this process is %d)", procRoot, self, os.Getpid())
	}
	return nil
}

// List returns the state of every thread of the process.
func List() ([]State, error) {
	if err := CheckProc(); err != nil {
		return nil, err
	}
	dir := procRoot + "/self/task"
	ids, err := threadIDs()
	if err != nil {
		return nil, err
	}
	var out []State
	for _, tid := range ids {
		b, err := os.ReadFile(dir + "/" + strconv.Itoa(tid) + "/status")
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // exited meanwhile
		}
		if err != nil {
			return nil, err
		}
		s, err := ParseStatus(tid, b)
		if err != nil {
			return nil, fmt.Errorf("%s/%d/status: %w", dir, tid, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseStatus reads a thread's privileges from the contents of its
// /proc/.../status file.
func ParseStatus(tid int, b []byte) (State, error) {
	s := State{TID: tid}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		var dst *uint64
		switch k {
		case "CapInh":
			dst = &s.Inheritable
		case "CapPrm":
			dst = &s.Permitted
		case "CapEff":
			dst = &s.Effective
		case "CapBnd":
			dst = &s.Bounding
		case "CapAmb":
			dst = &s.Ambient
		case "NoNewPrivs":
			s.NoNewPrivs = v == "1"
			seen++
			continue
		default:
			continue
		}
		n, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			return s, fmt.Errorf("%s: %w", k, err)
		}
		*dst = n
		seen++
	}
	if seen != 6 {
		return s, errors.New("capability or NoNewPrivs lines missing")
	}
	return s, nil
}

// maxPasses bounds how often the thread list is walked: each pass handles
// every thread it finds, so more passes are only needed while threads are
// being created.
const maxPasses = 50

// Restrict brings every thread but the calling one within t. The caller
// must be locked to its OS thread (runtime.LockOSThread) and be within t
// itself already.
//
// Each pass signals every thread not yet done, all at once, and waits for
// their handlers' answers; passes repeat until one finds no thread it has
// not done. That is enough without reading each thread's status: a thread
// inherits the credentials of the thread that creates it, and a thread
// created by one not yet done is listed by the pass after the one that did
// its creator (the creator answers only after its clone returned).
func Restrict(t Target) error {
	if err := CheckProc(); err != nil {
		return err
	}
	if rc := C.wasmrt_threads_install(C.ulonglong(t.Bounding), C.ulonglong(t.Permitted),
		C.ulonglong(t.Effective), C.ulonglong(t.Inheritable), C.int(t.LastCap)); rc != 0 {
		return fmt.Errorf("install the thread signal handler: %w", syscall.Errno(rc))
	}
	done := map[int]bool{unix.Gettid(): true}
	for range maxPasses {
		ids, err := threadIDs()
		if err != nil {
			return err
		}
		var tids []C.int
		for _, id := range ids {
			if !done[id] {
				tids = append(tids, C.int(id))
			}
		}
		if len(tids) == 0 {
			return nil
		}
		results := make([]C.int, len(tids))
		if rc := C.wasmrt_threads_restrict(&tids[0], &results[0], C.int(len(tids)), 1000); rc != 0 {
			return fmt.Errorf("restrict %d threads: %w", len(tids), syscall.Errno(rc))
		}
		for i, rc := range results {
			switch rc := syscall.Errno(rc); rc {
			case 0, syscall.ESRCH:
				done[int(tids[i])] = true // restricted, or gone
			case syscall.ETIMEDOUT:
				// Busy with signals blocked: the next pass tries again.
			default:
				return fmt.Errorf("restrict thread %d: %w (does the seccomp profile allow capset and prctl?)", tids[i], rc)
			}
		}
	}
	return fmt.Errorf("could not restrict every thread in %d passes", maxPasses)
}

// threadIDs lists the process's threads.
func threadIDs() ([]int, error) {
	entries, err := os.ReadDir(procRoot + "/self/task")
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(entries))
	for _, e := range entries {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
