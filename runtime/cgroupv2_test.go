package runtime_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCgroupV2 runs the runtime in a private mount namespace whose
// /sys/fs/cgroup is the host's cgroup2 hierarchy, so the v2 code paths
// (unified manager, eBPF device filter, cgroup.freeze) run even on a v1 or
// hybrid host.
func TestCgroupV2(t *testing.T) {
	e := newEnv(t)
	unified := "/sys/fs/cgroup"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		unified = "/sys/fs/cgroup/unified"
		if _, err := os.Stat(unified + "/cgroup.controllers"); err != nil {
			t.Skip("no cgroup2 hierarchy on this host")
		}
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (Debian package util-linux)")
	}
	id := testID(t)
	cg := "/wasmrt-test-v2/" + id
	e.spec.Linux.CgroupsPath = cg
	// /dev/loop-control is bind-mounted from the host but not allowed by
	// the device cgroup: opening it fails; /dev/null is allowed by
	// default and /dev/fuse because linux.devices lists it.
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: "/dev/loop-control", Type: "bind", Source: "/dev/loop-control", Options: []string{"bind"}})
	e.spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	e.spec.Process.Args = []string{"sh", "-c", `echo null:$(head -c 3 /dev/zero >/dev/null && echo ok); echo loop:$(cat /dev/loop-control 2>&1 | grep -c "can't open"); echo fuse:$(cat /dev/fuse 2>&1 | grep -c "can't open"); sleep 30`}
	e.writeSpec()
	script := `set -e
mount --make-rprivate /
mount --bind ` + unified + ` /sys/fs/cgroup
W="` + wasmrtBin + ` --root ` + e.root + `"
out=$(mktemp)
$W run -d --bundle ` + e.bundle + ` ` + id + ` >$out 2>&1
for i in $(seq 100); do grep -q fuse: $out && break; sleep 0.05; done
cat $out
$W pause ` + id + `
echo freeze:$(cat /sys/fs/cgroup` + cg + `/cgroup.freeze)
$W state ` + id + ` | grep -o '"status": "[a-z]*"'
$W resume ` + id + `
$W delete --force ` + id + `
test -e /sys/fs/cgroup` + cg + ` && echo cgroup-left || echo cgroup-gone
`
	out, err := exec.Command("unshare", "-m", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("v2 scenario: %v\n%s", err, out)
	}
	for _, want := range []string{"null:ok", "loop:1", "fuse:0", "freeze:1", `"status": "paused"`, "cgroup-gone"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
