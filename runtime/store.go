package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultRoot is where container state lives unless --root says otherwise.
const DefaultRoot = "/run/wasmrt"

// Sentinel errors callers can test with errors.Is.
var (
	ErrNotExist = errors.New("container does not exist")
	ErrExist    = errors.New("container already exists")
	ErrState    = errors.New("operation not allowed in the container's current state")
)

// Record is what the runtime keeps on disk for one container.
type Record struct {
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Pid         int               `json:"pid"`
	PidStart    uint64            `json:"pidStartTime"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Spec        *specs.Spec       `json:"spec"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// Status is the last status written by the runtime; the live status
	// is derived from it and the process (see Container.Status).
	Status specs.ContainerState `json:"status"`
	// ExitStatus is set once the runtime reaped the container's init
	// (for `run` and `start` in the foreground).
	ExitStatus *int `json:"exitStatus,omitempty"`
}

// Store is the state directory: one subdirectory per container holding
// state.json and, between create and start, the exec FIFO.
type Store struct {
	Root string
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+\-.]*$`)

// CheckID rejects ids that are not safe as a single path component.
func CheckID(id string) error {
	if len(id) > 1024 || !validID.MatchString(id) {
		return fmt.Errorf("invalid container id %q: use letters, digits, '_', '+', '-' and '.', starting with a letter or digit", id)
	}
	return nil
}

func (s *Store) dir(id string) string { return filepath.Join(s.Root, id) }

// Lock is an exclusive lock on one container's directory; it serialises
// every command acting on that container.
type Lock struct {
	fd  int
	dir string
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l != nil && l.fd >= 0 {
		unix.Close(l.fd)
		l.fd = -1
	}
}

func lockDir(dir string) (*Lock, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// A concurrent delete may have removed the directory while we waited.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		unix.Close(fd)
		return nil, os.ErrNotExist
	}
	return &Lock{fd: fd, dir: dir}, nil
}

// reserve atomically creates the container directory (duplicate ids fail
// here) and locks it.
func (s *Store) reserve(id string) (*Lock, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o711); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", s.Root, err)
	}
	if err := os.Mkdir(s.dir(id), 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrExist)
		}
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	l, err := lockDir(s.dir(id))
	if err != nil {
		os.Remove(s.dir(id))
		return nil, err
	}
	return l, nil
}

// open locks an existing container and loads its record. A directory
// without a record is a create that died before writing one; it is
// returned with a nil Spec so delete --force can clean it.
func (s *Store) open(id string) (*Lock, *Record, error) {
	if err := CheckID(id); err != nil {
		return nil, nil, err
	}
	l, err := lockDir(s.dir(id))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, nil, err
	}
	r, err := s.read(id)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return l, &Record{ID: id, Status: specs.StateCreating}, nil
		}
		l.Unlock()
		return nil, nil, err
	}
	return l, r, nil
}

func (s *Store) read(id string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(s.dir(id), "state.json"))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("container %q: corrupt state file: %w", id, err)
	}
	return &r, nil
}

// write replaces state.json atomically.
func (s *Store) write(r *Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir(r.ID), ".state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir(r.ID), "state.json")); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

func (s *Store) remove(id string) error {
	if err := os.RemoveAll(s.dir(id)); err != nil {
		return fmt.Errorf("remove state directory: %w", err)
	}
	return nil
}

func (s *Store) fifoPath(id string) string { return filepath.Join(s.dir(id), "exec.fifo") }

// IDs lists the containers in the store, sorted.
func (s *Store) IDs() ([]string, error) {
	entries, err := os.ReadDir(s.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", s.Root, err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && CheckID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// processStartTime reads field 22 of /proc/pid/stat, which together with the
// pid identifies a process across pid reuse.
func processStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses: skip past the
	// last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// processState returns the one-letter state of /proc/pid/stat.
func processState(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// alive reports whether the record's init still runs (not a zombie, and
// not a recycled pid).
func (r *Record) alive() bool {
	if r.Pid <= 0 {
		return false
	}
	st, err := processStartTime(r.Pid)
	if err != nil || st != r.PidStart {
		return false
	}
	return processState(r.Pid) != "Z"
}
