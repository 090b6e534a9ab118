package cgroup

import (
	"testing"

	devices "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPath(t *testing.T) {
	cases := []struct {
		in      string
		systemd bool
		want    string
		bad     bool
	}{
		{"", false, "/wasmrt/c1", false},
		{"/a/b", false, "/a/b", false},
		{"rel/x", false, "rel/x", false},
		{"system.slice:wasmrt:c1", true, "/system.slice/wasmrt-c1.scope", false},
		{"a-b-c.slice:p:n", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope", false},
		{"-.slice::n", true, "/n.scope", false},
		{"", true, "/system.slice/wasmrt-c1.scope", false},
		{"/abs/path", true, "", true},
		{"notaslice:p:n", true, "", true},
		{"a--b.slice:p:n", true, "", true},
	}
	for _, c := range cases {
		got, err := Path(c.in, "c1", c.systemd)
		if c.bad {
			if err == nil {
				t.Errorf("Path(%q, systemd=%v) = %q, want an error", c.in, c.systemd, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Path(%q, systemd=%v) = %q, %v; want %q", c.in, c.systemd, got, err, c.want)
		}
	}
}

func TestResources(t *testing.T) {
	limit, swap, pids := int64(1<<20), int64(2<<20), int64(0)
	shares, weight := uint64(512), uint16(300)
	major := int64(8)
	r, err := Resources(&specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "b", Major: &major, Access: "r"}},
		Memory:  &specs.LinuxMemory{Limit: &limit, Swap: &swap},
		CPU:     &specs.LinuxCPU{Shares: &shares, Cpus: "0"},
		Pids:    &specs.LinuxPids{Limit: &pids},
		BlockIO: &specs.LinuxBlockIO{Weight: &weight},
	}, []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Memory != limit || r.MemorySwap != swap || r.CpuShares != shares || r.CpusetCpus != "0" || r.BlkioWeight != weight {
		t.Fatalf("converted resources wrong: %+v", r)
	}
	if r.PidsLimit == nil || *r.PidsLimit != -1 {
		t.Fatalf("pids limit 0 must mean unlimited (-1), got %v", r.PidsLimit)
	}
	// Deny-all first, then the config's rule, then the defaults.
	if len(r.Devices) < 3 || r.Devices[0].Allow || r.Devices[0].Type != devices.WildcardDevice {
		t.Fatalf("first device rule must deny everything: %+v", r.Devices[0])
	}
	if d := r.Devices[1]; !d.Allow || d.Type != devices.BlockDevice || d.Major != 8 || d.Minor != devices.Wildcard || d.Permissions != "r" {
		t.Fatalf("config device rule converted wrong: %+v", d)
	}
	last := r.Devices[len(r.Devices)-1]
	if !last.Allow || last.Major != 10 || last.Minor != 229 || last.Permissions != "rwm" {
		t.Fatalf("a device from linux.devices must be allowed last: %+v", last)
	}
	if _, err := Resources(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, nil); err == nil {
		t.Fatal("unknown device type accepted")
	}
	if _, err := Resources(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rwx"}}}, nil); err == nil {
		t.Fatal("bad device access accepted")
	}
}
