#!/usr/bin/env bash
# make bench (part): guest networking (docs/networking.md), with the same
# transfers natively on the host as the peer, in one run.
#   1. 64 MiB between two threads of a guest python over loopback.
#   2. 100 MiB host -> guest and guest -> host through c2w run -p, python on
#      both ends (host python3, guest python3 of the python fixture).
#   3. Connection set-up: 200 connect + one-byte echo round trips from the
#      host through -p to a guest python server.
#   4. The guest's way out (c2w run --net): 100 MiB guest -> host and
#      host -> guest with the guest as the client of a host python server
#      at 10.0.2.2, and 200 connect + echo round trips to it.
# Each is also run natively (host python3 on the host's loopback) and the
# ratio printed. Needs bin/c2w (make build) and the fixtures; results are
# recorded by hand in docs/networking.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
c2w=${C2W:-$PWD/bin/c2w}
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
"$c2w" -q --platform linux/riscv64 "oci-layout:.fixtures/oci/python:latest" "$work/python.wasm"

cat >"$work/guest.py" <<'EOF'
import socket, sys, threading, time
MiB = 1 << 20
def serve(mode, port, total):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", port)); l.listen(64)
    if mode == "echo":
        for _ in range(total):
            c, _ = l.accept(); c.sendall(c.recv(1)); c.close()
        return
    c, _ = l.accept()
    c.sendall(b"R")  # ready: the host starts its clock
    if mode == "send":
        buf = b"x" * MiB
        for _ in range(total // MiB): c.sendall(buf)
    else:
        n = 0
        while n < total:
            b = c.recv(MiB)
            if not b: break
            n += len(b)
    c.close()
mode, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode == "loopback":
    t = threading.Thread(target=serve, args=("recv", port, total)); t.start()
    time.sleep(0.2)
    s = socket.create_connection(("127.0.0.1", port)); buf = b"x" * MiB
    s.recv(1)  # the server's "ready"
    start = time.time()
    for _ in range(total // MiB): s.sendall(buf)
    s.close(); t.join()
    print("%.1f" % (total / 1e6 / (time.time() - start)))
else:
    serve(mode, port, total)
EOF

cat >"$work/host.py" <<'EOF'
import socket, sys, time
MiB = 1 << 20
def connect(port):
    for _ in range(600):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)
        except OSError:
            time.sleep(0.1)
    sys.exit("nothing listens on %d" % port)
def ready(port):
    # A connection made before the guest listens is closed at once.
    for _ in range(600):
        s = connect(port)
        if s.recv(1) == b"R":
            return s
        s.close(); time.sleep(0.1)
    sys.exit("the guest never answered on %d" % port)
mode, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode == "send":  # the host sends, the guest receives
    s = ready(port); buf = b"x" * MiB; start = time.time()
    for _ in range(total // MiB): s.sendall(buf)
    s.shutdown(socket.SHUT_WR); s.recv(1)
elif mode == "recv":
    s = ready(port); start = time.time(); n = 0
    while n < total:
        b = s.recv(MiB)
        if not b: break
        n += len(b)
    if n != total: sys.exit("got %d of %d bytes" % (n, total))
else:  # echo: connection set-up round trips
    for _ in range(600):  # the first one waits for the guest to listen
        s = connect(port)
        try:
            s.sendall(b"x")
            if s.recv(1) == b"x":
                break
        except OSError:
            pass
        s.close(); time.sleep(0.1)
    s.close()
    start = time.time()
    for _ in range(total - 1):
        s = connect(port); s.sendall(b"x"); s.recv(1); s.close()
    print("%.2f" % ((time.time() - start) * 1000 / (total - 1)))
    sys.exit(0)
print("%.1f" % (total / 1e6 / (time.time() - start)))
EOF

cat >"$work/client.py" <<'EOF'
import socket, sys, time
MiB = 1 << 20
mode, host, port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def echo():
    s = socket.create_connection((host, port)); s.sendall(b"x"); s.recv(1); s.close()
if mode == "echo":
    echo()  # the first imports what names need (python compiles it: no .pyc in the fixture)
    start = time.time()
    for _ in range(total - 1): echo()
    print("%.2f" % ((time.time() - start) * 1000 / (total - 1)))
    sys.exit(0)
s = socket.create_connection((host, port))
start = time.time()
if mode == "upload":
    buf = b"x" * MiB
    for _ in range(total // MiB): s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"A": sys.exit("the server did not get it all")
else:
    n = 0
    while n < total:
        b = s.recv(MiB)
        if not b: break
        n += len(b)
    if n != total: sys.exit("got %d of %d bytes" % (n, total))
print("%.1f" % (total / 1e6 / (time.time() - start)))
EOF

cat >"$work/server.py" <<'EOF'
import socket, sys
MiB = 1 << 20
mode, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(64)
print("listening", flush=True)
for _ in range(total if mode == "echo" else 1):
    c, _ = l.accept()
    if mode == "echo":
        c.sendall(c.recv(1))
    elif mode == "sink":
        n = 0
        while True:
            b = c.recv(MiB)
            if not b: break
            n += len(b)
        c.sendall(b"A" if n == total else b"-")
    else:
        buf = b"x" * MiB
        for _ in range(total // MiB): c.sendall(buf)
    c.close()
EOF

guest() { "$c2w" run -v "$work:/w" "$work/python.wasm" --no-stdin "$@"; }
native() { python3 "$work/guest.py" "$@"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

total=$((100 << 20))
echo "== guest networking =="
printf '%-34s %12s %12s %8s\n' transfer guest native guest/native

g=$(guest python3 /w/guest.py loopback 9000 $((64 << 20)))
n=$(native loopback "$(free_port)" $((64 << 20)))
printf '%-34s %9s MB/s %9s MB/s %8s\n' "64 MiB over guest loopback" "$g" "$n" "$(ratio "$g" "$n")"

for dir in send recv; do
	guest_mode=recv
	[ "$dir" = recv ] && guest_mode=send
	hp=$(free_port)
	"$c2w" run -v "$work:/w" -p "127.0.0.1:$hp:9000" "$work/python.wasm" --no-stdin python3 /w/guest.py "$guest_mode" 9000 "$total" &
	g=$(python3 "$work/host.py" "$dir" "$hp" "$total")
	wait
	np=$(free_port)
	native "$guest_mode" "$np" "$total" &
	n=$(python3 "$work/host.py" "$dir" "$np" "$total")
	wait
	label="100 MiB host -> guest (-p)"
	[ "$dir" = recv ] && label="100 MiB guest -> host (-p)"
	printf '%-34s %9s MB/s %9s MB/s %8s\n' "$label" "$g" "$n" "$(ratio "$g" "$n")"
done

hp=$(free_port)
"$c2w" run -v "$work:/w" -p "127.0.0.1:$hp:9000" "$work/python.wasm" --no-stdin python3 /w/guest.py echo 9000 200 &
g=$(python3 "$work/host.py" echo "$hp" 200)
wait
np=$(free_port)
native echo "$np" 200 &
n=$(python3 "$work/host.py" echo "$np" 200)
wait
printf '%-34s %10s ms %10s ms %8s\n' "connect + echo through -p" "$g" "$n" "$(ratio "$g" "$n")"

# The guest as the client of host servers, through --net, and natively.
# serve MODE PORT TOTAL starts a host server and returns once it listens.
serve() {
	python3 "$work/server.py" "$@" >"$work/server.out" &
	for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && return; sleep 0.05; done
	echo "the host server did not start" >&2
	exit 1
}
for mode in upload download; do
	server=sink
	[ "$mode" = download ] && server=source
	hp=$(free_port)
	serve "$server" "$hp" "$total"
	g=$("$c2w" run --net -v "$work:/w" "$work/python.wasm" --no-stdin python3 /w/client.py "$mode" 10.0.2.2 "$hp" "$total")
	wait
	np=$(free_port)
	serve "$server" "$np" "$total"
	n=$(python3 "$work/client.py" "$mode" 127.0.0.1 "$np" "$total")
	wait
	label="100 MiB guest -> host (--net)"
	[ "$mode" = download ] && label="100 MiB host -> guest (--net)"
	printf '%-34s %9s MB/s %9s MB/s %8s\n' "$label" "$g" "$n" "$(ratio "$g" "$n")"
done
hp=$(free_port)
serve echo "$hp" 200
g=$("$c2w" run --net -v "$work:/w" "$work/python.wasm" --no-stdin python3 /w/client.py echo 10.0.2.2 "$hp" 200)
wait
np=$(free_port)
serve echo "$np" 200
n=$(python3 "$work/client.py" echo 127.0.0.1 "$np" 200)
wait
printf '%-34s %10s ms %10s ms %8s\n' "connect + echo through --net" "$g" "$n" "$(ratio "$g" "$n")"
