package shim

import (
	v1 "github.com/containerd/cgroups/v3/cgroup1/stats"
	v2 "github.com/containerd/cgroups/v3/cgroup2/stats"
	"github.com/opencontainers/cgroups"
	"google.golang.org/protobuf/types/known/anypb"
)

// metrics converts the runtime's cgroup statistics into the Metrics
// message containerd expects of a shim on this host: cgroup v1's
// (io.containerd.cgroups.v1.Metrics) or the unified hierarchy's
// (io.containerd.cgroups.v2.Metrics), as `ctr task metrics` and the CRI
// plugin decode them.
func metrics(s *cgroups.Stats) (*anypb.Any, error) {
	if cgroups.IsCgroup2UnifiedMode() {
		return marshalAny(metricsV2(s))
	}
	return marshalAny(metricsV1(s))
}

func metricsV1(s *cgroups.Stats) *v1.Metrics {
	m := s.MemoryStats.Stats
	mem := func(e cgroups.MemoryData) *v1.MemoryEntry {
		return &v1.MemoryEntry{Limit: e.Limit, Usage: e.Usage, Max: e.MaxUsage, Failcnt: e.Failcnt}
	}
	out := &v1.Metrics{
		Pids: &v1.PidsStat{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit},
		CPU: &v1.CPUStat{
			Usage: &v1.CPUUsage{
				Total: s.CpuStats.CpuUsage.TotalUsage, Kernel: s.CpuStats.CpuUsage.UsageInKernelmode,
				User: s.CpuStats.CpuUsage.UsageInUsermode, PerCPU: s.CpuStats.CpuUsage.PercpuUsage,
			},
			Throttling: &v1.Throttle{
				Periods: s.CpuStats.ThrottlingData.Periods, ThrottledPeriods: s.CpuStats.ThrottlingData.ThrottledPeriods,
				ThrottledTime: s.CpuStats.ThrottlingData.ThrottledTime,
			},
		},
		Memory: &v1.MemoryStat{
			Cache: m["cache"], RSS: m["rss"], RSSHuge: m["rss_huge"], MappedFile: m["mapped_file"],
			Dirty: m["dirty"], Writeback: m["writeback"], PgPgIn: m["pgpgin"], PgPgOut: m["pgpgout"],
			PgFault: m["pgfault"], PgMajFault: m["pgmajfault"], InactiveAnon: m["inactive_anon"],
			ActiveAnon: m["active_anon"], InactiveFile: m["inactive_file"], ActiveFile: m["active_file"],
			Unevictable: m["unevictable"], HierarchicalMemoryLimit: m["hierarchical_memory_limit"],
			HierarchicalSwapLimit: m["hierarchical_memsw_limit"], TotalCache: m["total_cache"],
			TotalRSS: m["total_rss"], TotalRSSHuge: m["total_rss_huge"], TotalMappedFile: m["total_mapped_file"],
			TotalDirty: m["total_dirty"], TotalWriteback: m["total_writeback"], TotalPgPgIn: m["total_pgpgin"],
			TotalPgPgOut: m["total_pgpgout"], TotalPgFault: m["total_pgfault"], TotalPgMajFault: m["total_pgmajfault"],
			TotalInactiveAnon: m["total_inactive_anon"], TotalActiveAnon: m["total_active_anon"],
			TotalInactiveFile: m["total_inactive_file"], TotalActiveFile: m["total_active_file"],
			TotalUnevictable: m["total_unevictable"],
			Usage:            mem(s.MemoryStats.Usage), Swap: mem(s.MemoryStats.SwapUsage),
			Kernel: mem(s.MemoryStats.KernelUsage), KernelTCP: mem(s.MemoryStats.KernelTCPUsage),
		},
		Blkio: &v1.BlkIOStat{
			IoServiceBytesRecursive: blkio(s.BlkioStats.IoServiceBytesRecursive),
			IoServicedRecursive:     blkio(s.BlkioStats.IoServicedRecursive),
			IoQueuedRecursive:       blkio(s.BlkioStats.IoQueuedRecursive),
			IoServiceTimeRecursive:  blkio(s.BlkioStats.IoServiceTimeRecursive),
			IoWaitTimeRecursive:     blkio(s.BlkioStats.IoWaitTimeRecursive),
			IoMergedRecursive:       blkio(s.BlkioStats.IoMergedRecursive),
			IoTimeRecursive:         blkio(s.BlkioStats.IoTimeRecursive),
			SectorsRecursive:        blkio(s.BlkioStats.SectorsRecursive),
		},
	}
	for size, h := range s.HugetlbStats {
		out.Hugetlb = append(out.Hugetlb, &v1.HugetlbStat{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt, Pagesize: size})
	}
	return out
}

func blkio(entries []cgroups.BlkioStatEntry) []*v1.BlkIOEntry {
	out := make([]*v1.BlkIOEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, &v1.BlkIOEntry{Op: e.Op, Major: e.Major, Minor: e.Minor, Value: e.Value})
	}
	return out
}

func metricsV2(s *cgroups.Stats) *v2.Metrics {
	m := s.MemoryStats.Stats
	// The unified hierarchy counts CPU time in microseconds; the runtime's
	// statistics carry nanoseconds.
	const usec = 1000
	return &v2.Metrics{
		Pids: &v2.PidsStat{Current: s.PidsStats.Current, Limit: s.PidsStats.Limit},
		CPU: &v2.CPUStat{
			UsageUsec: s.CpuStats.CpuUsage.TotalUsage / usec, UserUsec: s.CpuStats.CpuUsage.UsageInUsermode / usec,
			SystemUsec: s.CpuStats.CpuUsage.UsageInKernelmode / usec, NrPeriods: s.CpuStats.ThrottlingData.Periods,
			NrThrottled: s.CpuStats.ThrottlingData.ThrottledPeriods, ThrottledUsec: s.CpuStats.ThrottlingData.ThrottledTime / usec,
		},
		Memory: &v2.MemoryStat{
			Anon: m["anon"], File: m["file"], KernelStack: m["kernel_stack"], Slab: m["slab"], Sock: m["sock"],
			Shmem: m["shmem"], FileMapped: m["file_mapped"], FileDirty: m["file_dirty"], FileWriteback: m["file_writeback"],
			AnonThp: m["anon_thp"], InactiveAnon: m["inactive_anon"], ActiveAnon: m["active_anon"],
			InactiveFile: m["inactive_file"], ActiveFile: m["active_file"], Unevictable: m["unevictable"],
			SlabReclaimable: m["slab_reclaimable"], SlabUnreclaimable: m["slab_unreclaimable"],
			Pgfault: m["pgfault"], Pgmajfault: m["pgmajfault"],
			Usage: s.MemoryStats.Usage.Usage, UsageLimit: s.MemoryStats.Usage.Limit,
			SwapUsage: s.MemoryStats.SwapOnlyUsage.Usage, SwapLimit: s.MemoryStats.SwapOnlyUsage.Limit,
		},
	}
}
