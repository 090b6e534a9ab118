package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

func newUpdateCommand(g *globals) *cobra.Command {
	var file string
	var memory, reservation, swap, quota, pids int64
	var shares, period uint64
	var cpus, mems string
	var weight uint16
	cmd := &cobra.Command{
		Use:   "update [flags] <container-id>",
		Short: "Change a container's resource limits",
		Example: `  wasmrt update --memory 67108864 --pids-limit 100 c1
  wasmrt update -r resources.json c1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res := &specs.LinuxResources{}
			if file != "" {
				var r io.Reader = os.Stdin
				if file != "-" {
					f, err := os.Open(file)
					if err != nil {
						return fmt.Errorf("--resources: %w", err)
					}
					defer f.Close()
					r = f
				}
				if err := json.NewDecoder(r).Decode(res); err != nil {
					return fmt.Errorf("--resources %s: %w", file, err)
				}
			}
			fl := cmd.Flags()
			mem := func() *specs.LinuxMemory {
				if res.Memory == nil {
					res.Memory = &specs.LinuxMemory{}
				}
				return res.Memory
			}
			cpu := func() *specs.LinuxCPU {
				if res.CPU == nil {
					res.CPU = &specs.LinuxCPU{}
				}
				return res.CPU
			}
			if fl.Changed("memory") {
				mem().Limit = &memory
			}
			if fl.Changed("memory-reservation") {
				mem().Reservation = &reservation
			}
			if fl.Changed("memory-swap") {
				mem().Swap = &swap
			}
			if fl.Changed("cpu-shares") {
				cpu().Shares = &shares
			}
			if fl.Changed("cpu-quota") {
				cpu().Quota = &quota
			}
			if fl.Changed("cpu-period") {
				cpu().Period = &period
			}
			if fl.Changed("cpuset-cpus") {
				cpu().Cpus = cpus
			}
			if fl.Changed("cpuset-mems") {
				cpu().Mems = mems
			}
			if fl.Changed("pids-limit") {
				res.Pids = &specs.LinuxPids{Limit: &pids}
			}
			if fl.Changed("blkio-weight") {
				res.BlockIO = &specs.LinuxBlockIO{Weight: &weight}
			}
			return g.runtime().Update(args[0], res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "resources", "r", "", "JSON file with linux.resources fields to set (- for stdin)")
	f.Int64Var(&memory, "memory", 0, "memory limit in bytes")
	f.Int64Var(&reservation, "memory-reservation", 0, "memory soft limit in bytes")
	f.Int64Var(&swap, "memory-swap", 0, "memory+swap limit in bytes (-1 unlimited)")
	f.Uint64Var(&shares, "cpu-shares", 0, "relative CPU weight")
	f.Int64Var(&quota, "cpu-quota", 0, "CPU time in µs per --cpu-period")
	f.Uint64Var(&period, "cpu-period", 0, "CPU CFS period in µs")
	f.StringVar(&cpus, "cpuset-cpus", "", "CPUs allowed, e.g. 0-1")
	f.StringVar(&mems, "cpuset-mems", "", "memory nodes allowed, e.g. 0")
	f.Int64Var(&pids, "pids-limit", 0, "maximum number of processes (0 or less: unlimited)")
	f.Uint16Var(&weight, "blkio-weight", 0, "block I/O weight (10-1000)")
	return cmd
}
