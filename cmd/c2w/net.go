package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/hostnet"
)

func newNetCommand() *cobra.Command {
	var (
		token string
		dns   []string
	)
	cmd := &cobra.Command{
		Use:   "net [FLAGS] HOST:PORT",
		Short: "Give a converted module run by another WebAssembly host its network",
		Long: `net is the host side of a converted container's network for modules that
another WebAssembly host runs: it connects to the listening socket the host
preopened for the module's --net flag and makes the guest's TCP connections
and UDP flows from this machine (10.0.2.2 in the guest is this machine's
loopback, 10.0.2.3 relays DNS to its resolvers) until the module exits.
"c2w run --net" does all of this itself.

Give the module the token (C2W_NET_TOKEN in its environment) and the helper
the same with --token, so that no other local process can pose as it.`,
		Example: `  wasmtime run -S tcplisten=127.0.0.1:8100 --env C2W_NET_TOKEN=s3cret out.wasm --net wget -O- http://10.0.2.2:8000/ &
  c2w net --token s3cret 127.0.0.1:8100`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := net.SplitHostPort(args[0]); err != nil {
				return usageError{fmt.Errorf("%q: want HOST:PORT of the module's network socket", args[0])}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return hostnet.Connect(ctx, args[0], token, hostnet.Options{DNS: dns})
		},
	}
	cmd.Flags().StringVar(&token, "token", os.Getenv(inet.LinkTokenEnv), "the token the module was given (default: $"+inet.LinkTokenEnv+")")
	cmd.Flags().StringArrayVar(&dns, "dns", nil, "DNS server the guest's lookups go to, IP or IP:PORT (repeatable; default: /etc/resolv.conf's)")
	return cmd
}
