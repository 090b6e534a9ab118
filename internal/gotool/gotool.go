package gotool

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// Install builds the command at pkg (a main package path) of version with
// go install, unless an earlier test did, and returns the binary's path.
func Install(t testing.TB, pkg, version string) string {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	name := path.Base(pkg)
	bin := filepath.Join(root, ".cache", name+"-"+strings.TrimPrefix(version, "v"))
	exe := filepath.Join(bin, name)
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	cmd := exec.Command("go", "install", pkg+"@"+version)
	// Outside this module: the tool's own go.mod decides its dependencies.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s@%s: %v\n%s", pkg, version, err, out)
	}
	return exe
}
