package linktest

import (
	"context"
	"net"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/hostnet"
)

// Link returns the guest's end of an opened link served by hostnet with
// opts. The host side must end without error when the test does.
func Link(t testing.TB, opts hostnet.Options) net.Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- hostnet.Connect(ctx, l.Addr().String(), "linktest", opts) }()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if err := inet.AcceptLink(c, "linktest"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		c.Close()
		if err := <-served; err != nil {
			t.Errorf("host side of the network: %v", err)
		}
	})
	return c
}
