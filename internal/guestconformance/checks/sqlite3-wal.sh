# sqlite3's shell on a WAL database with concurrent writers and readers:
# four writer processes insert rows, one transaction each, while a reader
# counts them and a checkpointer truncates the log; the database must end
# with every row, intact. Exercises fcntl locks between processes, the
# -shm file shared through MAP_SHARED mappings, busy waits and fsync.
# Prints "PASS name" or "FAIL name: why" per check; exits 1 on a failure.
set -u
dir=$(mktemp -d)
db=$dir/wal.db
writers=4
rows=150
fails=0
check() { # name, got, want
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
	else
		echo "FAIL $1: got '$2', want '$3'"
		fails=$((fails + 1))
	fi
}

check journal_mode "$(sqlite3 "$db" 'PRAGMA journal_mode=WAL;')" wal
sqlite3 "$db" 'CREATE TABLE t(writer INTEGER, n INTEGER, pad TEXT, UNIQUE(writer, n));'

# session NAME: one sqlite3 process running the statements of its input,
# each waiting up to a minute for locks; keeps its output and status.
session() {
	{
		echo '.timeout 60000'
		cat
	} | sqlite3 -bail "$db" >"$dir/$1.out" 2>&1
	echo $? >"$dir/$1.status"
}
# repeat COUNT STATEMENT
repeat() {
	i=0
	while [ "$i" -lt "$1" ]; do
		echo "$2"
		i=$((i + 1))
	done
}
# A writer inserts its rows one transaction each; the reader counts rows
# in read transactions (a snapshot never goes back, so every count is at
# least the one before); the checkpointer truncates the log meanwhile.
writer() {
	n=1
	while [ "$n" -le "$rows" ]; do
		echo "BEGIN IMMEDIATE; INSERT INTO t VALUES($1, $n, printf('%0200d', $n)); COMMIT;"
		n=$((n + 1))
	done | session "writer$1"
}
reader() { repeat 100 'SELECT count(*) FROM t;' | session reader; }
checkpointer() { repeat 5 'PRAGMA wal_checkpoint(TRUNCATE);' | session checkpointer; }

w=1
while [ "$w" -le "$writers" ]; do
	writer "$w" &
	w=$((w + 1))
done
reader &
checkpointer &
wait

w=1
while [ "$w" -le "$writers" ]; do
	check "writer $w exit" "$(cat "$dir/writer$w.status")" 0
	check "writer $w output" "$(cat "$dir/writer$w.out")" ""
	w=$((w + 1))
done
check "reader exit" "$(cat "$dir/reader.status")" 0
check "checkpointer exit" "$(cat "$dir/checkpointer.status")" 0
prev=0
monotonic=yes
for c in $(cat "$dir/reader.out"); do
	[ "$c" -ge "$prev" ] || monotonic="no: $c after $prev"
	prev=$c
done
check "reader counts never go back" "$monotonic" yes
check "rows" "$(sqlite3 "$db" 'SELECT count(*), count(DISTINCT writer), sum(n) FROM t;')" \
	"$((writers * rows))|$writers|$((writers * rows * (rows + 1) / 2))"
check integrity "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok
check "final checkpoint" "$(sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);')" "0|0|0"
# The last connection to close checkpoints and removes the log; a new
# one sees the same rows.
check "log removed" "$([ -e "$db-wal" ] && echo present || echo removed)" removed
check "rows after checkpoint" "$(sqlite3 "$db" 'PRAGMA journal_mode; SELECT count(*) FROM t;' | tr '\n' ' ')" \
	"wal $((writers * rows)) "
rm -rf "$dir"
[ "$fails" -eq 0 ]
