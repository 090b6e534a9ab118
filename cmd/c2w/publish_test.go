package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// TestRunPublish: with -p, a host connection reaches a server in the
// guest (busybox nc listening on a guest port) and carries bytes both
// ways, as docker run -p does.
func TestRunPublish(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	port := closedPort(t)

	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- doMain(context.Background(), []string{"run", "-p", "127.0.0.1:" + port + ":8000", module,
			"sh", "-c", "echo from-guest | nc -l -p 8000; echo guest-done"}, strings.NewReader(""), &stdout, &stderr)
	}()
	// The host listener is there at once; until the guest listens, a
	// connection is closed without a byte.
	var got []byte
	deadline := time.Now().Add(2 * time.Minute)
	for len(got) == 0 && time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(30 * time.Second))
			c.Write([]byte("from-host\n"))
			c.(*net.TCPConn).CloseWrite()
			got, _ = io.ReadAll(c)
			c.Close()
		}
		if len(got) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if string(got) != "from-guest\n" {
		t.Errorf("host read %q from the published port", got)
	}
	select {
	case code := <-done:
		if code != 0 || stdout.String() != "from-host\nguest-done\n" {
			t.Errorf("c2w run: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the guest did not end after the connection; stderr: %s", stderr.String())
	}
}

// TestRunPublishSlowReader: a guest server sends 20 MiB through -p to a
// host client that reads late and slowly, so the module's writes to the
// host connection wait; with --no-stdin, descriptor 0 was closed and given
// to that connection, and the module aborted ("poll_oneoff failed").
func TestRunPublishSlowReader(t *testing.T) {
	module := convertFixture(t, fixtures.ImageBusybox)
	port := closedPort(t)
	const total = 20 << 20
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- doMain(context.Background(), []string{"run", "-p", "127.0.0.1:" + port + ":8000", module, "--no-stdin",
			"sh", "-c", "dd if=/dev/zero bs=65536 count=320 2>/dev/null | nc -l -p 8000; echo guest-done"}, strings.NewReader(""), &stdout, &stderr)
	}()
	var n int64
	deadline := time.Now().Add(2 * time.Minute)
	for n == 0 && time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		c.SetDeadline(time.Now().Add(time.Minute))
		var first [1]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			c.Close()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n = 1
		// Late, then slow: the guest's data piles up in the host
		// connection's buffers and the module's writes wait.
		time.Sleep(2 * time.Second)
		buf := make([]byte, 64<<10)
		for {
			m, err := c.Read(buf)
			n += int64(m)
			if err != nil {
				break
			}
			if n%(4<<20) < int64(len(buf)) {
				time.Sleep(200 * time.Millisecond)
			}
		}
		c.Close()
	}
	if n != total {
		t.Errorf("host read %d bytes, want %d", n, total)
	}
	select {
	case code := <-done:
		if code != 0 || stdout.String() != "guest-done\n" {
			t.Errorf("c2w run: exit %d, stdout %q, stderr %.2000s", code, stdout.String(), stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the guest did not end; stderr: %.2000s", stderr.String())
	}
}

func TestParsePublish(t *testing.T) {
	listen, guest, err := parsePublish([]string{"8080:80", "0.0.0.0:9000:90/tcp", "[::1]:7000:70"})
	if err != nil || strings.Join(listen, " ") != "127.0.0.1:8080 0.0.0.0:9000 [::1]:7000" || strings.Join(guest, " ") != "80 90 70" {
		t.Errorf("parsePublish = %v, %v, %v", listen, guest, err)
	}
	for _, bad := range []string{"80", "8080:80/udp", "x:80", "8080:0", "8080:70000", "host:8080:80"} {
		if _, _, err := parsePublish([]string{bad}); err == nil {
			t.Errorf("parsePublish(%q) accepted", bad)
		}
	}
}
