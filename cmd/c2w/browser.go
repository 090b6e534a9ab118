package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert/browser"
	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/hostnet"
)

func newBrowserCommand() *cobra.Command {
	var (
		title   string
		quiet   bool
		network bool
		embed   bool
	)
	cmd := &cobra.Command{
		Use:   "browser [FLAGS] MODULE.wasm DIR [-- ARG...]",
		Short: "Write a web site that runs a converted module in a browser",
		Long: `browser writes DIR, a static web site that runs MODULE.wasm (a module c2w
converted) in the browser with a terminal: index.html, the page's scripts
and style, c2w.json, the module with gzip and brotli copies, and the
image's root file system (rootfs.img), which the page fetches piece by
piece with range requests as the guest reads it, so the guest starts as
soon as the emulator has arrived (--embed-rootfs keeps it in the module
for servers without range requests). ARGs are
the module's arguments on the page (its flags, then the command; default:
the image's command); a page URL's ?arg=…&arg=… replace them.

Browsers give keyboard input to the module only on cross-origin isolated
pages: serve DIR with "c2w serve DIR", or from any web server that sends
Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
require-corp (and application/wasm for .wasm).`,
		Example: `  c2w browser busybox.wasm site && c2w serve site
  c2w browser python.wasm site -- python3 -q
  c2w oci-layout:./busybox busybox.wasm --to-browser site`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n >= 0 && n != 2 || n < 0 && len(args) != 2 {
				return usageError{errors.New("c2w browser takes MODULE.wasm and DIR, then -- and the module's arguments")}
			}
			module, err := readModule(args[0])
			if err != nil {
				return err
			}
			return writeSite(cmd.ErrOrStderr(), module, args[1], browser.Options{Title: title, Args: args[2:], Network: network, EmbedRootfs: embed}, quiet)
		},
	}
	cmd.Flags().StringVar(&title, "title", "", "the page's title (default: the image's name)")
	cmd.Flags().BoolVar(&embed, "embed-rootfs", false, "keep the root file system in the module instead of fetching it lazily (for servers that do not answer range requests)")
	cmd.Flags().BoolVar(&network, "net", false, "give the guest a network through the server (c2w serve --net): TCP, UDP and DNS made from the serving machine")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no output")
	return cmd
}

// writeSite writes the site and says how to serve it.
func writeSite(stderr io.Writer, module []byte, dir string, opt browser.Options, quiet bool) error {
	start := time.Now()
	if err := browser.Write(dir, module, opt); err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(stderr, "%s: web site for a %s module in %.1fs; serve it with: c2w serve %s\n",
			dir, image.HumanSize(int64(len(module))), time.Since(start).Seconds(), dir)
	}
	return nil
}

func newServeCommand() *cobra.Command {
	var (
		listen  string
		network bool
		dns     []string
	)
	cmd := &cobra.Command{
		Use:   "serve [FLAGS] DIR",
		Short: "Serve a site written by c2w browser",
		Long: `serve serves DIR, a site "c2w browser" wrote, over HTTP with the headers
its page needs (cross-origin isolation), the precompressed module for
browsers that accept brotli or gzip, and range requests. Only loopback
clients can reach it unless --listen names another address.

With --net it also relays the network of pages that ask for one (c2w
browser --net): their guests' TCP connections, UDP flows and DNS lookups
are made from this machine, as with c2w run --net (10.0.2.2 in the guest is
this machine's loopback). Anyone who can load the page can then reach what
this machine reaches: keep such a server on loopback or a trusted network.`,
		Example: `  c2w serve site
  c2w serve --listen :8080 site`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := browser.CheckSite(dir); err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			opts := browser.ServeOptions{Logf: func(format string, a ...any) {
				fmt.Fprintf(cmd.ErrOrStderr(), "c2w serve: "+format+"\n", a...)
			}}
			if network {
				if _, err := hostnet.Resolvers(dns); err != nil {
					return usageError{err}
				}
				opts.Network = &hostnet.Options{DNS: dns}
			}
			h, err := browser.Handler(dir, opts)
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			what := "serving"
			if network {
				what = "serving (with a network for its guests)"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s %s at http://%s/ (interrupt to stop)\n", what, dir, l.Addr())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(l) }()
			select {
			case err := <-done:
				return err
			case <-cmd.Context().Done():
				return srv.Close()
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (HOST:PORT; :PORT for every interface)")
	cmd.Flags().BoolVar(&network, "net", false, "relay the network of pages that ask for one (c2w browser --net) through this machine")
	cmd.Flags().StringArrayVar(&dns, "dns", nil, "with --net: DNS server the guests' lookups go to, IP or IP:PORT (repeatable; default: /etc/resolv.conf's)")
	return cmd
}
