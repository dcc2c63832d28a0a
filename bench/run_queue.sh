#!/bin/sh
# replyd benchmark: the reply queue. docs/performance.md ("The queue") explains the results.
#
#   sh bench/run_queue.sh            # about 15 minutes on a 2-core VM (plus a minute the
#                                    # first time to generate the inputs)
#   sh bench/run_queue.sh --quick    # small sizes, one run each: checks that the script works
#   sh bench/run_queue.sh --profile  # also `perf record` one enqueue of the largest input
#                                    # (top functions in BENCH_OUT/queue/profile.txt)
#
# (a) Enqueue: `replyd process --queue Q --now NOW INPUT` (not a dry run) into a fresh queue
#     file, for 10 000, 50 000 and 100 000 messages of tests/queue/gen_messages.py, with
#     queue.commit_every 500 (the default: group commit) and 1 (a transaction per message),
#     and `replyd process --dry-run` of the same input: the difference is the queue's own
#     cost. NOW is a time outside the benchmark team's business hours, so each message gets
#     an automatic acknowledgement and a draft (except thanks: none; damaged items: a draft).
#     Figures: messages/s and replies/s from the median wall time of RUNS runs (default 3),
#     the median CPU time (user + system), peak RSS (/usr/bin/time), and the queue file's size.
# (b) Send: `replyd send --limit N` through the smtp sink to tests/servers/smtp_server.py on
#     127.0.0.1 (one connection, reused), N = 2 000 and 10 000 due replies, each run on a
#     fresh copy of a prepared queue; replies/s from the median wall time. The server's own
#     speed limit is measured alone with a tiny Python client (smtplib, one connection) that
#     sends messages of the same size; and the same sends through the file sink (one JSON
#     line per reply appended to a local file): replyd's own cost without a network peer.
#
# The queue files are written to BENCH_QUEUE_DIR (default BENCH_OUT/queue, on disk): the
# queue's cost includes the page cache, the write-back and the fsyncs of WAL checkpoints
# (synchronous=NORMAL), so a tmpfs would hide part of it.
#
# Environment: REPLYD (binary; default: build-bench-queue/replyd, the RelWithDebInfo build
# of the working tree with its plugins, brought up to date first), RUNS (default 3),
# BENCH_OUT (default bench/out), BENCH_QUEUE_DIR, ENQUEUE_SIZES, SEND_SIZES.
# Results: BENCH_OUT/queue/results.md (also printed).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-"$ROOT/bench/out"}/queue
QDIR=${BENCH_QUEUE_DIR:-"$OUT"}
RUNS=${RUNS:-3}
ENQUEUE_SIZES=${ENQUEUE_SIZES:-"10000 50000 100000"}
SEND_SIZES=${SEND_SIZES:-"2000 10000"}
QUICK=0
PROFILE=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --profile) PROFILE=1 ;;
        *) printf 'usage: sh bench/run_queue.sh [--quick] [--profile]\n' >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    ENQUEUE_SIZES="1000 5000"; SEND_SIZES="500"; RUNS=1
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
GEN="$ROOT/tests/queue/gen_messages.py"
SMTPD="$ROOT/tests/servers/smtp_server.py"

say() { printf '%s\n' "$*" >&2; }
die() { say "run_queue.sh: $*"; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (apt-get install python3-aiosmtpd)"

if [ -z "${REPLYD:-}" ]; then
    say "building build-bench-queue (RelWithDebInfo) ..."
    cmake -S "$ROOT" -B "$ROOT/build-bench-queue" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRP_TESTS=OFF >/dev/null || die "cmake failed"
    cmake --build "$ROOT/build-bench-queue" -j2 >/dev/null || die "build failed"
    REPLYD="$ROOT/build-bench-queue/replyd"
fi
[ -x "$REPLYD" ] || die "no binary $REPLYD"
[ -f "$(dirname "$REPLYD")/plugins/smtp.so" ] || die "no smtp plugin next to $REPLYD"
mkdir -p "$OUT" "$QDIR"

SERVER_PID=""
cleanup() {
    [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
    rm -f "$QDIR"/bq-*.db "$QDIR"/bq-*.db-* 2>/dev/null || true
    rm -rf "$QDIR"/bq-*.db.senders 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Now, or two minutes earlier in the benchmark team's only business minute
# (09:00 UTC on weekdays): every message arrives "after hours".
NOW=$("$PY" -c '
import datetime
t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
if t.weekday() < 5 and t.hour == 9 and t.minute == 0:
    t -= datetime.timedelta(minutes=2)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))')

config() { # config FILE COMMIT_EVERY [SMTP_PORT | file:PATH]
    {
        cat <<EOF
team:
  time_zone: UTC
  business_hours: { mon: "09:00-09:01", tue: "09:00-09:01", wed: "09:00-09:01",
                    thu: "09:00-09:01", fri: "09:00-09:01", sat: closed, sun: closed }
holidays: []
marketplaces:
  amazon.com:   { sender: shop-us@seller.example.com }
  amazon.de:    { sender: shop-de@seller.example.de }
  amazon.fr:    { sender: shop-fr@seller.example.fr }
  amazon.it:    { sender: shop-it@seller.example.it }
  amazon.es:    { sender: shop-es@seller.example.es }
  amazon.co.jp: { sender: shop-jp@seller.example.jp }
queue: { commit_every: $2 }
EOF
        case "${3:-}" in
            "") ;;
            file:*)
                printf 'delivery:\n  sink: out\n  sinks:\n'
                printf '    out: { plugin: file, options: { path: "%s" } }\n' "${3#file:}" ;;
            *)
                printf 'delivery:\n  sink: mail\n  sinks:\n'
                printf '    mail: { plugin: smtp, options: { url: "smtp://127.0.0.1:%s", tls: none } }\n' "$3" ;;
        esac
    } >"$1"
}

input() { # input N: path of the generated input (made once)
    f="$OUT/msgs-$1.jsonl"
    if [ ! -s "$f" ]; then
        say "generating $1 messages ..."
        "$PY" "$GEN" "$1" --out "$f.tmp" && mv "$f.tmp" "$f"
    fi
    printf '%s' "$f"
}

median() { sort -g | awk '{a[NR]=$1} END{if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
maxof() { sort -g | tail -1; }
now_s() { date +%s.%N; }

# timed FILE CMD...: runs CMD (stdout to /dev/null, stderr to FILE.err); appends
# "wall cpu rss_kb" to FILE
timed() {
    f=$1; shift
    t0=$(now_s)
    /usr/bin/time -o "$f.time" -f '%U %S %M' "$@" >/dev/null 2>"$f.err" ||
        { cat "$f.err" >&2; die "failed: $*"; }
    t1=$(now_s)
    awk -v a="$t0" -v b="$t1" '{printf "%.3f %.3f %d\n", b - a, $1 + $2, $3}' "$f.time" >>"$f"
}

RES="$OUT/results.md"
{
    echo "# replyd queue benchmark"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- binary: $REPLYD"
    echo "- machine: $(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), queue on $(findmnt -no FSTYPE -T "$QDIR" 2>/dev/null || echo '?')"
    echo "- SQLite $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's; replyd links the system's libsqlite3)"
    echo "- RUNS=$RUNS, medians"
    echo
} >"$RES"

# ---- (a) enqueue ----------------------------------------------------------------------
echo "## (a) Enqueue: replyd process into a fresh queue" >>"$RES"
echo >>"$RES"
echo "| messages | replies | mode | wall s | msg/s | replies/s | CPU s | peak RSS MB | queue MB |" >>"$RES"
echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|" >>"$RES"
for n in $ENQUEUE_SIZES; do
    in=$(input "$n")
    config "$OUT/c500.yaml" 500
    config "$OUT/c1.yaml" 1
    rm -f "$OUT/t-$n-"*
    for mode in dry group1 group500; do
        i=0
        while [ $i -lt "$RUNS" ]; do
            i=$((i + 1))
            q="$QDIR/bq-enqueue.db"
            rm -rf "$q" "$q-wal" "$q-shm" "$q.senders"
            sync
            say "enqueue $n: $mode, run $i"
            case $mode in
                dry) timed "$OUT/t-$n-$mode" "$REPLYD" process --dry-run --config "$OUT/c500.yaml" --now "$NOW" "$in" ;;
                group1) timed "$OUT/t-$n-$mode" "$REPLYD" process --queue "$q" --config "$OUT/c1.yaml" --now "$NOW" "$in" ;;
                group500) timed "$OUT/t-$n-$mode" "$REPLYD" process --queue "$q" --config "$OUT/c500.yaml" --now "$NOW" "$in" ;;
            esac
            if [ "$mode" != dry ]; then
                grep -q "^replyd process: $n stored" "$OUT/t-$n-$mode.err" ||
                    { cat "$OUT/t-$n-$mode.err" >&2; die "not all $n messages stored"; }
                sed -n 's/.*; \([0-9]*\) replies:.*/\1/p' "$OUT/t-$n-$mode.err" >"$OUT/t-$n-replies"
                du -m "$q" | cut -f1 >"$OUT/t-$n-$mode.size"
            fi
        done
        rm -rf "$q" "$q-wal" "$q-shm" "$q.senders"
    done
    replies=$(cat "$OUT/t-$n-replies")
    for mode in dry group500 group1; do
        f="$OUT/t-$n-$mode"
        wall=$(cut -d' ' -f1 "$f" | median)
        cpu=$(cut -d' ' -f2 "$f" | median)
        rss=$(cut -d' ' -f3 "$f" | maxof)
        case $mode in
            dry) label="dry run (no queue)"; size="-" ;;
            group500) label="commit_every 500 (default)"; size=$(cat "$f.size") ;;
            group1) label="commit_every 1"; size=$(cat "$f.size") ;;
        esac
        awk -v n="$n" -v r="$replies" -v l="$label" -v w="$wall" -v c="$cpu" -v m="$rss" -v s="$size" \
            'BEGIN{printf "| %d | %d | %s | %.2f | %.0f | %.0f | %.2f | %.0f | %s |\n", n, r, l, w, n/w, r/w, c, m/1024, s}' >>"$RES"
    done
    awk -v n="$n" -v r="$replies" -v q="$(cut -d' ' -f1 "$OUT/t-$n-group500" | median)" \
        -v d="$(cut -d' ' -f1 "$OUT/t-$n-dry" | median)" \
        'BEGIN{printf "| %d | %d | *the queue itself (commit_every 500 minus dry run)* | %.2f | | %.0f µs/reply | | | |\n", n, r, q-d, (q-d)/r*1e6}' >>"$RES"
done
echo >>"$RES"

if [ "$PROFILE" = 1 ]; then
    n=$(echo "$ENQUEUE_SIZES" | awk '{print $NF}')
    q="$QDIR/bq-profile.db"
    rm -rf "$q" "$q-wal" "$q-shm"
    say "perf record: enqueue $n"
    perf record -o "$OUT/perf.data" "$REPLYD" process --queue "$q" --config "$OUT/c500.yaml" \
        --now "$NOW" "$(input "$n")" >/dev/null 2>/dev/null || die "perf record failed"
    perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -40 >"$OUT/profile.txt"
    rm -rf "$q" "$q-wal" "$q-shm"
fi

# ---- (b) send ---------------------------------------------------------------------------
start_smtp() { # start_smtp DIR: sets PORT
    rm -rf "$1"; mkdir -p "$1"
    "$PY" "$SMTPD" --port-file "$1/port" --stats "$1/stats.json" --quiet >"$1/log" 2>&1 &
    SERVER_PID=$!
    w=0
    while [ ! -s "$1/port" ]; do
        w=$((w + 1)); [ $w -le 100 ] || die "the SMTP server did not start"
        sleep 0.1
    done
    PORT=$(cat "$1/port")
}
stop_smtp() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
server_messages() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$1"; }

echo "## (b) Send: replyd send --limit N (smtp sink to tests/servers/smtp_server.py; file sink)" >>"$RES"
echo >>"$RES"
echo "| due replies | sink | wall s | replies/s | CPU s (replyd) | peak RSS MB | connections |" >>"$RES"
echo "|---:|---|---:|---:|---:|---:|---:|" >>"$RES"
for n in $SEND_SIZES; do
    m=$((n + n / 4 + 100))
    in=$(input "$m")
    prep="$QDIR/bq-send-$n.db"
    rm -rf "$prep" "$prep-wal" "$prep-shm"
    config "$OUT/cs.yaml" 500 1
    "$REPLYD" process --queue "$prep" --config "$OUT/cs.yaml" --now "$NOW" "$in" >/dev/null 2>&1 ||
        die "preparing the send queue failed"
    rm -f "$OUT/s-$n"
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        start_smtp "$OUT/smtp"
        config "$OUT/cs.yaml" 500 "$PORT"
        q="$QDIR/bq-send-run.db"
        rm -rf "$q" "$q-wal" "$q-shm" "$q.senders"
        cp "$prep" "$q"
        sync
        say "send $n: run $i"
        timed "$OUT/s-$n" "$REPLYD" send --queue "$q" --config "$OUT/cs.yaml" --limit "$n"
        grep -q "^replyd send: $n sent, 0 to retry, 0 failed" "$OUT/s-$n.err" ||
            { cat "$OUT/s-$n.err" >&2; die "not $n replies sent"; }
        sleep 0.3
        got=$(server_messages "$OUT/smtp/stats.json")
        [ "$got" = "$n" ] || die "the server received $got messages, not $n"
        conns=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"])' "$OUT/smtp/stats.json")
        stop_smtp
    done
    # the same with the file sink (a local file, no network): replyd's own cost
    rm -f "$OUT/f-$n"
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        rm -f "$OUT/sent.jsonl"
        config "$OUT/cf.yaml" 500 "file:$OUT/sent.jsonl"
        q="$QDIR/bq-send-run.db"
        rm -rf "$q" "$q-wal" "$q-shm" "$q.senders"
        cp "$prep" "$q"
        sync
        say "send $n to a file: run $i"
        timed "$OUT/f-$n" "$REPLYD" send --queue "$q" --config "$OUT/cf.yaml" --limit "$n"
        [ "$(wc -l <"$OUT/sent.jsonl")" -eq "$n" ] || die "not $n lines in the file sink's output"
    done
    rm -rf "$prep" "$prep-wal" "$prep-shm" "$q" "$q-wal" "$q-shm" "$q.senders" "$prep.senders" \
        "$OUT/sent.jsonl"
    for kind in smtp file; do
        f="$OUT/s-$n"; label="smtp (loopback)"; k=$conns
        [ $kind = file ] && { f="$OUT/f-$n"; label="file"; k="-"; }
        wall=$(cut -d' ' -f1 "$f" | median)
        cpu=$(cut -d' ' -f2 "$f" | median)
        rss=$(cut -d' ' -f3 "$f" | maxof)
        awk -v n="$n" -v l="$label" -v w="$wall" -v c="$cpu" -v m="$rss" -v k="$k" \
            'BEGIN{printf "| %d | %s | %.2f | %.0f | %.2f | %.0f | %s |\n", n, l, w, n/w, c, m/1024, k}' >>"$RES"
    done
done
echo >>"$RES"

# the server alone: a Python client over one connection, messages of the same size
start_smtp "$OUT/smtp"
n=$(echo "$SEND_SIZES" | awk '{print $NF}')
say "server alone: $n messages"
alone=$("$PY" - "$PORT" "$n" <<'PYEOF'
import smtplib, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
body = ("From: Shop <shop-de@seller.example.de>\r\nTo: x@marketplace.amazon.de\r\n"
        "Subject: Re: Anfrage\r\nMessage-ID: <replyd.0@seller.example.de>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Vielen Dank für Ihre Nachricht zu Bestellung 302-1234567-1234567.\r\n" * 14).encode()
s = smtplib.SMTP("127.0.0.1", port)
t = time.time()
for i in range(n):
    s.sendmail("shop-de@seller.example.de", ["x%d@marketplace.amazon.de" % i], body)
dt = time.time() - t
s.quit()
print("%.2f %.0f" % (dt, n / dt))
PYEOF
)
stop_smtp
echo "Server alone (Python smtplib client, one connection, $n messages of ~1 KB):" \
    "$(echo "$alone" | cut -d' ' -f1) s, $(echo "$alone" | cut -d' ' -f2) messages/s." >>"$RES"
cat "$RES"
