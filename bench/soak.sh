#!/bin/sh
# replyd benchmark: a soak run of `replyd run` — N messages through IMAP -> queue -> SMTP on
# loopback. docs/performance.md ("Soak: IMAP → queue → SMTP") explains the results.
#
#   sh bench/soak.sh               # 10 000 and 100 000 messages: about 8 minutes on a 2-core VM
#                                  # (generating the mail included)
#   sh bench/soak.sh --quick       # 2 000 messages, with the kill -9: checks that the script works
#   sh bench/soak.sh [--kill] N... # these sizes; --kill: the kill -9 for every size
#
# For each size, in a fresh temporary folder:
#   1. a private Dovecot on 127.0.0.1 (tests/servers/dovecot.sh) whose INBOX Maildir gets N
#      unseen messages of bench/gen_eml.py (generated once per size, linked in; their Date:
#      headers moved into the 20 hours before the clock file's time, so that they are
#      overnight mail and not a year old); one SELECT before replyd starts lets Dovecot move
#      new/ to cur/ and index them (timed apart: "index s");
#   2. tests/servers/smtp_server.py on 127.0.0.1, storing every message on /dev/shm;
#   3. `replyd run --config C --clock-file F` in the background: one imap source (after: seen,
#      poll_seconds 1, run.batch and the imap batch at their defaults unless RUN_BATCH or
#      IMAP_BATCH say otherwise), the smtp sink, the queue file on disk in the temporary folder;
#      the clock file says Tuesday 03:00 Europe/Berlin, outside the team's hours (Mon-Fri
#      09:00-17:00), so most messages get an automatic acknowledgement that goes out at once;
#   4. bench/soak_check.py monitor samples replyd's VmRSS and VmHWM (/proc/PID/status) and the
#      CPU times of replyd, the SMTP server and Dovecot's processes every second, and watches the
#      queue file (read-only, cheap indexed queries) and the server's counters until every
#      message is stored and no reply is due or being sent; for sizes of 100 000 and more (or
#      with --kill) replyd is killed with SIGKILL once half of the messages are stored and
#      started again at once;
#   5. SIGTERM; replyd must exit 0; then the exactly-once checks (soak_check.py verify), each a
#      FAIL that fails the script: every generated Message-ID stored exactly once; no reply left
#      in 'sending'; the SMTP server received every sent reply, none twice, and nothing else
#      (after a kill -9: received ⊆ sent ∪ flagged 'interrupted', sent ⊆ received); no automatic
#      reply left for a retry; every INBOX message in cur/ with the S flag, none in new/;
#      `replyd status --json` counts N stored for the source.
# Then, once per size and without the kill, the same run without a sink: fetch and store
# alone (MODES="full store" is the default; MODES=full or MODES=store runs one of them). And
# the SMTP server alone: the replies replyd sent, sent again to a fresh server by a Python
# smtplib client over one connection (its speed limit).
#
# Figures: wall time from replyd's start to all stored and to all sent, messages/s (fetch +
# store) and replies/s (send) over those times; RSS at 10 %, 50 %, 90 % of each replyd
# process's life, at its end and its peak; "flat" = end minus the 10 % sample.
#
# Environment: REPLYD (binary; default: build-soak/replyd, the RelWithDebInfo build of the
# working tree with its plugins, brought up to date first), BENCH_OUT (default bench/out),
# SOAK_TMP (default: $TMPDIR or /tmp: the Dovecot folder and the queue file, on disk),
# SOAK_SHM (default /dev/shm: the SMTP server's messages), RUN_BATCH, IMAP_BATCH, MODES,
# TIMEOUT (seconds per run; default 120 + N/50).
# Results: BENCH_OUT/soak/results.md (also printed); per run BENCH_OUT/soak/samples-N[-store].tsv
# and log-N-warn.txt (replyd's warn and error lines, the first 200).
# Needs: dovecot-imapd, python3-aiosmtpd. Runs as root (Dovecot then runs the mail as user
# dovecot) or as any other user.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-"$ROOT/bench/out"}/soak
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CHECK="$ROOT/bench/soak_check.py"
DOVECOT_SH="$ROOT/tests/servers/dovecot.sh"
SMTPD="$ROOT/tests/servers/smtp_server.py"
CLOCK=2027-01-05T03:00:00+01:00 # a Tuesday, 03:00 in Berlin
SIZES=""
KILL_ALL=0
QUICK=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --kill) KILL_ALL=1 ;;
        *[!0-9]* | "") printf 'usage: sh bench/soak.sh [--quick] [--kill] [N...]\n' >&2; exit 2 ;;
        *) SIZES="$SIZES $a" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    SIZES=${SIZES:-2000}
    KILL_ALL=1
fi
SIZES=${SIZES:-"10000 100000"}

say() { printf '%s\n' "$*" >&2; }
die() { say "soak.sh: $*"; exit 1; }

[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 ||
    die "dovecot is not installed (apt-get install dovecot-imapd)"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "$PY cannot import aiosmtpd (apt-get install python3-aiosmtpd)"

if [ -z "${REPLYD:-}" ]; then
    say "building build-soak (RelWithDebInfo) ..."
    cmake -S "$ROOT" -B "$ROOT/build-soak" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRP_TESTS=OFF >/dev/null || die "cmake failed"
    cmake --build "$ROOT/build-soak" -j2 >/dev/null || die "build failed"
    REPLYD="$ROOT/build-soak/replyd"
fi
[ -x "$REPLYD" ] || die "no binary $REPLYD"
for p in imap smtp; do
    [ -f "$(dirname "$REPLYD")/plugins/$p.so" ] || die "no $p plugin next to $REPLYD"
done
mkdir -p "$OUT"

WORK=$(mktemp -d "${SOAK_TMP:-${TMPDIR:-/tmp}}/replyd-soak.XXXXXX")
SHM=$(mktemp -d "${SOAK_SHM:-/dev/shm}/replyd-soak.XXXXXX")
RUN=""        # the current run's folder
DPID=""       # replyd
MPID=""       # the monitor
SPID=""       # the SMTP server
cleanup() {
    [ -z "$DPID" ] || kill -9 "$DPID" 2>/dev/null || true
    [ -z "$MPID" ] || kill "$MPID" 2>/dev/null || true
    [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
    [ -z "$RUN" ] || sh "$DOVECOT_SH" stop "$RUN/dovecot" >/dev/null 2>&1 || true
    rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }
json_get() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

start_smtp() { # start_smtp DIR MAILDIR: sets SPID, SPORT
    mkdir -p "$1" "$2"
    "$PY" "$SMTPD" --port-file "$1/smtp.port" --out "$2" --stats "$1/smtp.stats" --quiet \
        >"$1/smtp.log" 2>&1 &
    SPID=$!
    w=0
    while [ ! -s "$1/smtp.port" ]; do
        w=$((w + 1)); [ $w -le 100 ] || { cat "$1/smtp.log" >&2; die "the SMTP server did not start"; }
        sleep 0.1
    done
    SPORT=$(cat "$1/smtp.port")
}
stop_smtp() { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=""; }

config() { # config FILE IMAP_PORT SMTP_PORT|-
    {
        cat <<EOF
queue: { path: queue.db }
team:
  time_zone: Europe/Berlin
  business_hours: { mon: "09:00-17:00", tue: "09:00-17:00", wed: "09:00-17:00",
                    thu: "09:00-17:00", fri: "09:00-17:00", sat: closed, sun: closed }
holidays: []
marketplaces:
  amazon.com:    { sender: shop-us@seller.example.com }
  amazon.com.mx: { sender: shop-mx@seller.example.com.mx }
  amazon.co.uk:  { sender: shop-uk@seller.example.co.uk }
  amazon.ca:     { sender: shop-ca@seller.example.ca }
  amazon.com.au: { sender: shop-au@seller.example.com.au }
  amazon.de:     { sender: shop-de@seller.example.de }
  amazon.fr:     { sender: shop-fr@seller.example.fr }
  amazon.it:     { sender: shop-it@seller.example.it }
  amazon.es:     { sender: shop-es@seller.example.es }
  amazon.co.jp:  { sender: shop-jp@seller.example.jp }
sources:
  relay:
    plugin: imap
    poll_seconds: 1
    options:
      url: "imap://127.0.0.1:$2/INBOX"
      tls: none
      username: relay
      password_env: SOAK_IMAP_PASSWORD
      after: seen
EOF
        [ -z "${IMAP_BATCH:-}" ] || printf '      batch: %s\n' "$IMAP_BATCH"
        [ -z "${RUN_BATCH:-}" ] || printf 'run: { batch: %s }\n' "$RUN_BATCH"
        if [ "$3" != - ]; then
            printf 'delivery:\n  sink: mail\n  sinks:\n'
            printf '    mail: { plugin: smtp, options: { url: "smtp://127.0.0.1:%s", tls: none } }\n' "$3"
        fi
        printf 'log: { format: logfmt }\n'
    } >"$1"
}
export SOAK_IMAP_PASSWORD=secret
NOW=$("$PY" -c 'import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1]).timestamp()))' "$CLOCK")

gen() { # gen N: the generated Maildir for N messages (made once)
    g="$WORK/gen-$1"
    if [ ! -d "$g/new" ]; then
        say "generating $1 messages ..."
        "$PY" "$ROOT/bench/gen_eml.py" "$1" "$g" || die "gen_eml.py failed"
    fi
    printf '%s' "$g"
}

RES="$OUT/results.md"
ROWS="$WORK/rows"
RSSROWS="$WORK/rssrows"
CHECKS="$WORK/checks"
: >"$ROWS"
: >"$RSSROWS"
: >"$CHECKS"
FAILED=0

# run_one N MODE: MODE full (smtp sink) or store (no sink)
run_one() {
    n=$1
    mode=$2
    kill_at=0
    if [ "$mode" = full ] && { [ "$KILL_ALL" = 1 ] || [ "$n" -ge 100000 ]; }; then
        kill_at=$((n / 2))
    fi
    tag=$n
    [ "$mode" = store ] && tag=$n-store
    g=$(gen "$n")
    RUN="$WORK/run-$tag"
    mkdir -p "$RUN/dovecot"
    sh "$DOVECOT_SH" start "$RUN/dovecot" >/dev/null || die "dovecot did not start"
    MD=$(cat "$RUN/dovecot/maildir")
    say "[$tag] filling INBOX ..."
    "$PY" "$CHECK" fill "$g" "$MD" "$NOW" >/dev/null || die "fill failed"
    t=$(now_s)
    got=$("$PY" "$CHECK" preindex "$(cat "$RUN/dovecot/port")") || die "the first SELECT failed"
    t_index=$(elapsed "$t" "$(now_s)")
    [ "$got" = "$n" ] || die "INBOX holds $got messages, not $n"
    MAIL="$SHM/mail-$tag"
    if [ "$mode" = full ]; then
        start_smtp "$RUN" "$MAIL"
        config "$RUN/replyd.yaml" "$(cat "$RUN/dovecot/port")" "$SPORT"
    else
        mkdir -p "$MAIL"
        printf '{"messages": 0}\n' >"$RUN/smtp.stats"
        config "$RUN/replyd.yaml" "$(cat "$RUN/dovecot/port")" -
    fi
    echo "$CLOCK" >"$RUN/clock"
    sync
    say "[$tag] replyd run: $n messages$([ $kill_at -gt 0 ] && echo ", kill -9 at $kill_at stored")"
    t0=$(now_s)
    "$REPLYD" run --config "$RUN/replyd.yaml" --clock-file "$RUN/clock" 2>"$RUN/run.log" &
    DPID=$!
    echo "$DPID" >"$RUN/pid"
    so=""
    [ "$mode" = store ] && so=--store-only
    "$PY" "$CHECK" monitor --pidfile "$RUN/pid" --queue "$RUN/queue.db" --stats "$RUN/smtp.stats" \
        --n "$n" --samples "$RUN/samples.tsv" --progress "$RUN/progress" --result "$RUN/mon.json" \
        --t0 "$t0" --now "$NOW" --timeout "${TIMEOUT:-$((120 + n / 50))}" \
        --smtp-pid "${SPID:-0}" --dovecot-pid "$(cat "$RUN/dovecot/run/master.pid")" $so &
    MPID=$!
    killed=""
    t_kill=""
    if [ $kill_at -gt 0 ]; then
        while kill -0 "$MPID" 2>/dev/null; do
            s=$(cut -d' ' -f1 "$RUN/progress" 2>/dev/null || echo 0)
            if [ "${s:-0}" -ge $kill_at ]; then
                kill -9 "$DPID"
                t_kill=$(elapsed "$t0" "$(now_s)")
                rc=0
                wait "$DPID" || rc=$?
                [ $rc = 137 ] || die "replyd exited $rc before the kill -9"
                prog=$(cat "$RUN/progress")
                "$REPLYD" run --config "$RUN/replyd.yaml" --clock-file "$RUN/clock" 2>>"$RUN/run.log" &
                DPID=$!
                echo "$DPID" >"$RUN/pid"
                killed="--killed"
                say "[$tag] killed at ${t_kill} s (stored, received by the SMTP server: $prog), restarted"
                break
            fi
            sleep 0.2
        done
    fi
    mrc=0
    wait "$MPID" || mrc=$?
    MPID=""
    [ $mrc = 0 ] || { tail -20 "$RUN/run.log" >&2; die "[$tag] the run did not complete"; }
    kill -TERM "$DPID"
    rc=0
    wait "$DPID" || rc=$?
    DPID=""
    [ "$mode" = full ] && { sleep 0.3; stop_smtp; }
    "$REPLYD" status --config "$RUN/replyd.yaml" --json --now "$CLOCK" >"$RUN/status.json" || true
    cp "$RUN/samples.tsv" "$OUT/samples-$tag.tsv"
    grep -E 'level=(warn|error)' "$RUN/run.log" | head -200 >"$OUT/log-$tag-warn.txt" || true
    {
        echo "### $tag$([ -n "$killed" ] && echo " (kill -9 at $t_kill s)")"
        echo
        if [ $rc = 0 ]; then echo "ok - SIGTERM: replyd exited 0"; else echo "FAIL - SIGTERM: replyd exited $rc"; fi
    } >>"$CHECKS"
    [ $rc = 0 ] || FAILED=1
    vrc=0
    "$PY" "$CHECK" verify --queue "$RUN/queue.db" --ids "$g/ids" --maildir "$MD" --mail "$MAIL" \
        --stats "$RUN/smtp.stats" --n "$n" --json "$RUN/verify.json" --status "$RUN/status.json" \
        $killed $so >>"$CHECKS" || vrc=$?
    [ $vrc = 0 ] || FAILED=1
    echo >>"$CHECKS"
    errors=$(grep -c 'level=error' "$RUN/run.log" || true)
    warns=$(grep -c 'level=warn' "$RUN/run.log" || true)
    t_stored=$(json_get "$RUN/mon.json" t_stored)
    t_sent=$(json_get "$RUN/mon.json" t_sent)
    cpu_m=$(json_get "$RUN/mon.json" cpu_monitor)
    sent=$(json_get "$RUN/verify.json" sent)
    flagged=$(json_get "$RUN/verify.json" interrupted)
    awk -F"\t" 'END{printf "%s %s %s\n", $7, $8, $9}' "$RUN/samples.tsv" >"$RUN/cpu"
    read -r cpu_r cpu_s cpu_d <"$RUN/cpu"
    if [ "$mode" = full ]; then
        label="smtp sink"
        [ -z "$killed" ] || label="smtp sink, kill -9 at $t_kill s"
        awk -v n="$n" -v l="$label" -v ix="$t_index" -v ts="$t_stored" -v tt="$t_sent" -v s="$sent" \
            -v f="$flagged" -v cr="$cpu_r" -v cs="$cpu_s" -v cd="$cpu_d" -v cm="$cpu_m" -v e="$errors" -v w="$warns" \
            'BEGIN{printf "| %d | %s | %.1f | %.1f | %.0f | %d | %d | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %d/%d |\n",
                   n, l, ix, ts, n/ts, s, f, tt, s/tt, cr, cs, cd, cm, e, w}' >>"$ROWS"
    else
        awk -v n="$n" -v ix="$t_index" -v ts="$t_stored" -v cr="$cpu_r" -v cd="$cpu_d" -v cm="$cpu_m" -v e="$errors" -v w="$warns" \
            'BEGIN{printf "| %d | no sink (fetch + store alone) | %.1f | %.1f | %.0f | - | - | - | - | %.1f | - | %.1f | %.1f | %d/%d |\n",
                   n, ix, ts, n/ts, cr, cd, cm, e, w}' >>"$ROWS"
    fi
    "$PY" "$CHECK" rss "$RUN/samples.tsv" | while IFS="$(printf '\t')" read -r k span p10 p50 p90 pend peak flat; do
        printf '| %s | %s | %s s | %s | %s | %s | %s | %s | %s |\n' "$n" \
            "$([ "$mode" = store ] && echo "no sink" || echo "smtp")$([ -n "$killed" ] && echo ", process $k")" \
            "$span" "$p10" "$p50" "$p90" "$pend" "$peak" "$flat" >>"$RSSROWS"
    done
    if [ "$mode" = full ]; then
        # the server alone: the same replies, sent again by Python over one connection
        start_smtp "$RUN/alone" "$SHM/alone-$tag"
        m=$sent
        [ "$m" -le 20000 ] || m=20000
        alone=$("$PY" "$CHECK" smtp-alone "$SPORT" "$MAIL" "$m") || die "smtp-alone failed"
        stop_smtp
        echo "$n $alone" >>"$WORK/alone"
        rm -rf "$SHM/alone-$tag"
    fi
    sh "$DOVECOT_SH" stop "$RUN/dovecot" >/dev/null 2>&1 || true
    rm -rf "$RUN" "$MAIL"
    RUN=""
    [ $rc = 0 ] && [ $vrc = 0 ] || say "[$tag] FAILED (see the checks below)"
}

for n in $SIZES; do
    for mode in ${MODES:-full store}; do
        case $mode in
            full | store) run_one "$n" "$mode" ;;
            *) die "MODES: full and/or store, not '$mode'" ;;
        esac
    done
    rm -rf "$WORK/gen-$n"
done

{
    echo "# replyd soak benchmark: replyd run, IMAP -> queue -> SMTP"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- binary: $REPLYD"
    echo "- machine: $(nproc) vCPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r); queue and Maildir on $(findmnt -no FSTYPE -T "$WORK" 2>/dev/null || echo '?'), SMTP messages on $(findmnt -no FSTYPE -T "$SHM" 2>/dev/null | head -1)"
    echo "- $(/usr/sbin/dovecot --version 2>/dev/null | sed 's/^/Dovecot /' || echo 'Dovecot ?'), aiosmtpd $("$PY" -c 'import aiosmtpd; print(aiosmtpd.__version__)'), SQLite $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's)"
    echo "- clock file $CLOCK; run.batch ${RUN_BATCH:-default}, imap batch ${IMAP_BATCH:-default}; one run per size"
    echo
    echo "## Throughput"
    echo
    echo "Times from replyd's start. index: Dovecot's first SELECT of the filled INBOX, before replyd"
    echo "starts. CPU: user + system seconds until the end (replyd and Dovecot's imap process: the"
    echo "last process only after a kill; monitor: soak_check.py watching the run)."
    echo
    echo "| messages | run | index s | all stored s | msg/s | replies sent | flagged interrupted | all sent s | replies/s | CPU replyd s | CPU SMTP server s | CPU Dovecot s | CPU monitor s | log errors/warnings |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$ROWS"
    echo
    if [ -s "$WORK/alone" ]; then
        echo "The SMTP server alone (the replies replyd sent, sent again by Python's smtplib over one"
        echo "connection to a fresh server that also stores them on /dev/shm):"
        echo
        while read -r n secs rate m; do
            echo "- after the $n run: $m messages in $secs s, $rate messages/s"
        done <"$WORK/alone"
        echo
    fi
    echo "## Memory (replyd's VmRSS, MB)"
    echo
    echo "| messages | run | process life | 10 % | 50 % | 90 % | end | peak (VmHWM) | flat: end − 10 % |"
    echo "|---:|---|---|---:|---:|---:|---:|---:|---:|"
    cat "$RSSROWS"
    echo
    echo "## Exactly-once checks"
    echo
    cat "$CHECKS"
} >"$RES"
cat "$RES"
[ $FAILED = 0 ] || die "some checks failed"
