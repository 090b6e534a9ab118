// Command wasmprobe is a GOOS=wasip1 test program for the WebAssembly
// hosts (package wasi, the runtime's Wasm executor and the shim): each
// subcommand exercises one thing a host must provide, and prints what it
// saw so a test can compare it with what it configured.
//
//	wasmprobe args              print each argument after argv[0] on a line
//	wasmprobe env NAME...       print NAME=VALUE (or NAME unset) per name
//	wasmprobe environ           print the whole environment, one per line
//	wasmprobe pwd               print the working directory
//	wasmprobe cat FILE          copy FILE to stdout
//	wasmprobe write FILE TEXT   write TEXT to FILE (created 0644)
//	wasmprobe ls DIR            print the names in DIR, one per line
//	wasmprobe stdin             copy stdin to stdout
//	wasmprobe exit N            exit with status N
//	wasmprobe alloc MIB         allocate and touch MIB MiB, 1 MiB at a time,
//	                            printing the running total every 16 MiB
//	wasmprobe spin              loop forever without a system call
//	wasmprobe sleep SECONDS     sleep, then print "slept"
//
// Built with -buildmode=c-shared it is a reactor: no _start, and the
// function exported as probe_hello prints "hello from probe_hello".
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: wasmprobe COMMAND [ARG...]")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "wasmprobe:", err)
		return 1
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "args":
		for _, a := range rest {
			fmt.Println(a)
		}
	case "env":
		for _, name := range rest {
			if v, ok := os.LookupEnv(name); ok {
				fmt.Printf("%s=%s\n", name, v)
			} else {
				fmt.Printf("%s unset\n", name)
			}
		}
	case "environ":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "pwd":
		dir, err := os.Getwd()
		if err != nil {
			return fail(err)
		}
		fmt.Println(dir)
	case "cat":
		f, err := os.Open(arg(rest, 0))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if _, err := io.Copy(os.Stdout, f); err != nil {
			return fail(err)
		}
	case "write":
		if err := os.WriteFile(arg(rest, 0), []byte(arg(rest, 1)), 0o644); err != nil {
			return fail(err)
		}
	case "ls":
		entries, err := os.ReadDir(arg(rest, 0))
		if err != nil {
			return fail(err)
		}
		for _, e := range entries {
			fmt.Println(e.Name())
		}
	case "stdin":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return fail(err)
		}
	case "exit":
		n, err := strconv.Atoi(arg(rest, 0))
		if err != nil {
			return fail(err)
		}
		return n
	case "alloc":
		mib, err := strconv.Atoi(arg(rest, 0))
		if err != nil {
			return fail(err)
		}
		var keep [][]byte
		for i := 1; i <= mib; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = byte(i)
			}
			keep = append(keep, b)
			if i%16 == 0 {
				fmt.Printf("allocated %d MiB\n", i)
			}
		}
		fmt.Printf("done %d MiB\n", len(keep))
	case "spin":
		fmt.Println("spinning")
		spin()
	case "sleep":
		s, err := strconv.ParseFloat(arg(rest, 0), 64)
		if err != nil {
			return fail(err)
		}
		time.Sleep(time.Duration(s * float64(time.Second)))
		fmt.Println("slept")
	default:
		return fail(fmt.Errorf("unknown command %q (want one of args env environ pwd cat write ls stdin exit alloc spin sleep)", strings.TrimSpace(cmd)))
	}
	return 0
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// counter keeps spin's loop from being optimised away.
var counter uint64

//go:noinline
func spin() {
	for {
		counter++
	}
}
