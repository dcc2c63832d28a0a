#!/bin/sh
# replyd run without mail servers: a Maildir source and a JSON Lines drop
# folder, the file sink. Checks --once, acknowledgement only after storing,
# unreadable input, a failing source beside a working one, an IMAP server that
# accepts connections and never answers beside a working one, the logs (JSON,
# redacted), SIGHUP with a broken and a good configuration, SIGTERM in the
# middle of a large batch, kill -9 and restart (every message stored exactly
# once), the clock file, and replyd status.
# usage: test_run.sh REPLYD SOURCE_DIR
set -eu
R=$1
SRC=$2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
T=$(mktemp -d)
dpid=""
stallpid=""
cleanup() {
  [ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
  [ -n "$stallpid" ] && kill "$stallpid" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"; }
expect() { # expect DESCRIPTION COMMAND...
  d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
eq() { [ "$1" = "$2" ] || { echo "   got '$1', want '$2'" >&2; return 1; }; }
sql() { "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$T/queue.db" "$1"; }
count_files() { find "$1" -maxdepth 1 -type f | wc -l | tr -d ' '; }
# wait_for SECONDS COMMAND...: until the command succeeds
wait_for() {
  n=$(($1 * 10))
  shift
  while ! "$@" 2>/dev/null; do
    n=$((n - 1))
    [ $n -le 0 ] && return 1
    sleep 0.1
  done
}

mkdir -p "$T/Maildir/new" "$T/Maildir/cur" "$T/Maildir/tmp" "$T/drop" "$T/out"
cat > "$T/base.yaml" <<YAML
queue:
  path: queue.db
marketplaces:
  amazon.com:   { sender: shop-us@seller.example }
  amazon.de:    { sender: shop-de@seller.example }
  amazon.fr:    { sender: shop-fr@seller.example }
  amazon.it:    { sender: shop-it@seller.example }
  amazon.es:    { sender: shop-es@seller.example }
  amazon.co.jp: { sender: shop-jp@seller.example }
delivery:
  sink: preview
  sinks:
    preview: { plugin: file, options: { path: out/replies.jsonl } }
log:
  format: json
YAML
cat "$T/base.yaml" > "$T/replyd.yaml"
cat >> "$T/replyd.yaml" <<YAML
sources:
  relay-de:
    plugin: maildir
    marketplace: amazon.de
    poll_seconds: 1
    options: { path: Maildir }
  feed:
    plugin: dropdir
    poll_seconds: 1
    options: { path: drop }
YAML
cd "$T"

# --- check knows the sources ---------------------------------------------------------
expect "check accepts the sources" sh -c "'$R' check --config replyd.yaml | grep -q \"ok: source 'relay-de' (plugin maildir, amazon.de)\""

# --- once: the Maildir and the drop folder ---------------------------------------------
for f in de-return-label en-out-of-office fr-where-is-my-parcel ja-not-delivered; do
  cp "$SRC/examples/mail/$f.eml" "Maildir/new/$f"
done
"$PY" "$SRC/tests/queue/gen_messages.py" 30 --prefix once --out drop/batch1.jsonl
echo 2026-11-24T02:00:00+01:00 > clock
rc=0
"$R" run --once --config replyd.yaml --clock-file clock 2> once.log || rc=$?
expect "run --once exits 0" eq "$rc" 0
expect "34 messages stored" eq "$(sql 'SELECT count(*) FROM inbound')" 34
expect "the Maildir's new/ is empty" eq "$(count_files Maildir/new)" 0
expect "cur/ holds them, flagged seen" eq "$(ls Maildir/cur | grep -c ':2,.*S')" 4
expect "the drop file moved to done/" test -f drop/done/batch1.jsonl -a ! -f drop/batch1.jsonl
expect "decided at the clock file's time" eq "$(sql 'SELECT min(decided_at) = max(decided_at) AND min(decided_at) = 1795482000 FROM inbound')" 1
expect "the marketplace of the source applies to mail that does not say" \
  eq "$(sql "SELECT count(*) FROM inbound WHERE source LIKE 'relay-de:%' AND marketplace IS NULL")" 0
expect "the out-of-office reply got no answer" \
  eq "$(sql "SELECT suppressed FROM inbound WHERE source LIKE '%en-out-of-office'")" auto_submitted
auto=$(sql "SELECT count(*) FROM replies WHERE state = 'sent'")
expect "automatic replies were sent" test "$auto" -gt 0
expect "each sent reply is in the file sink once" eq "$(wc -l < out/replies.jsonl | tr -d ' ')" "$auto"
expect "every log line is JSON" "$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' once.log
expect "a stored event per message" eq "$(grep -c '"event":"stored"' once.log)" 34
expect "no buyer address in the log" sh -c "! grep -Eq '[A-Za-z0-9._-]+@(marketplace\\.)?amazon' once.log"
expect "no buyer message text in the log" sh -c "! grep -q 'Sehr geehrte\\|Bonjour' once.log"

rc=0
"$R" run --once --config replyd.yaml --clock-file clock 2> again.log || rc=$?
expect "a second round finds nothing new" eq "$rc/$(sql 'SELECT count(*) FROM inbound')/$(grep -c '"event":"stored"' again.log || true)" "0/34/0"

"$R" status --config replyd.yaml --json --now 2026-11-24T02:05:00+01:00 > status.json || true
expect "status shows both sources polled without error" "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
src = {x["name"]: x for x in s["sources"]}
assert src["relay-de"]["ok"] and src["feed"]["ok"], src
assert src["relay-de"]["stored"] == 4 and src["feed"]["stored"] == 30, src
assert src["relay-de"]["last_poll"].startswith("2026-11-24T01:00"), src
assert s["approvals"]["waiting"] >= 1, s
# the example mails were received a week before the clock: 3 of them wait for
# a human and are overdue
assert s["backlog"]["open"] >= 3 and s["backlog"]["overdue"] == 3, s
assert len(s["next_deadlines"]) >= 1, s' status.json

# --- unreadable input ---------------------------------------------------------------------
printf '%s\n' '{"id":"bad-1","marketplace":"amazon.de","body":' > drop/broken.jsonl
"$PY" "$SRC/tests/queue/gen_messages.py" 1 --prefix after --out - >> drop/broken.jsonl
rc=0
"$R" run --once --config replyd.yaml --clock-file clock 2> bad.log || rc=$?
expect "an unreadable line is logged with where it is" grep -q '"event":"unreadable","source":"feed","ref":"broken.jsonl:1"' bad.log
expect "the next line still flows" eq "$(sql "SELECT count(*) FROM inbound WHERE msg_id = 'after-000000'")" 1
expect "the unreadable line is recorded for status" eq "$(sql 'SELECT count(*) FROM unreadable')" 1
rc=0
"$R" status --config replyd.yaml --now 2026-11-24T02:10:00+01:00 > status.txt || rc=$?
expect "status reports it and exits 1" sh -c "[ $rc = 1 ] && grep -q 'Unreadable messages in the last 24 hours: 1' status.txt"

# --- a failing source does not stop the others --------------------------------------------
cat "$T/base.yaml" > broken-source.yaml
cat >> broken-source.yaml <<YAML
sources:
  gone:
    plugin: maildir
    options: { path: no-such-maildir }
  feed:
    plugin: dropdir
    options: { path: drop }
YAML
"$PY" "$SRC/tests/queue/gen_messages.py" 5 --prefix side --out drop/batch2.jsonl
rc=0
"$R" run --once --config broken-source.yaml --clock-file clock 2> side.log || rc=$?
if [ $rc = 2 ]; then
  # the plugin refuses a missing folder when it opens: the configuration is
  # refused as a whole, with the reason
  expect "a missing Maildir is refused with its name" grep -q 'no-such-maildir' side.log
else
  expect "--once exits 1 when a source failed" eq "$rc" 1
  expect "the working source still delivered" eq "$(sql "SELECT count(*) FROM inbound WHERE msg_id LIKE 'side-%'")" 5
  expect "the failure is logged" grep -q '"event":"poll_failed","source":"gone"' side.log
fi

# --- a stalled IMAP server holds up only its own source -------------------------------------
# a TCP server that accepts and never says a word (no IMAP greeting)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)' stall.port &
stallpid=$!
wait_for 10 test -s stall.port
cat "$T/base.yaml" > stall.yaml
cat >> stall.yaml <<YAML
sources:
  stalled:
    plugin: imap
    marketplace: amazon.com
    poll_seconds: 1
    options: { url: "imap://127.0.0.1:$(cat stall.port)/INBOX", tls: none, username: relay,
               password_env: STALL_PASSWORD, timeout_ms: "60000", connect_timeout_ms: "60000" }
  relay-de:
    plugin: maildir
    marketplace: amazon.de
    poll_seconds: 1
    options: { path: Maildir }
YAML
STALL_PASSWORD=x "$R" run --config stall.yaml 2> stall.log &
dpid=$!
wait_for 10 grep -q '"event":"started"' stall.log
sleep 1
# a copy of a stored message with a new Message-ID
sed 's/^Message-ID: <\(.*\)>/Message-ID: <stall-\1>/' "$SRC/examples/mail/de-return-label.eml" > Maildir/new/stall-de
expect "while one IMAP server hangs, the Maildir's message is stored within seconds" \
  wait_for 5 grep -q '"ref":"new/stall-de"' stall.log
start=$(date +%s)
kill -TERM $dpid
rc=0
wait $dpid || rc=$?
dpid=""
took=$(($(date +%s) - start))
expect "SIGTERM interrupts the hanging connection: exit 0 within 5 s (took ${took}s)" \
  sh -c "[ $rc = 0 ] && [ $took -le 5 ]"
kill $stallpid 2>/dev/null || true
stallpid=""

# --- the daemon: SIGHUP, SIGTERM ----------------------------------------------------------
rm -f clock
"$R" run --config replyd.yaml 2> daemon.log &
dpid=$!
wait_for 10 grep -q '"event":"started"' daemon.log
cp "$SRC/examples/mail/es-refund.eml" Maildir/new/es-refund
expect "a message dropped in later is stored" wait_for 10 grep -q '"ref":"new/es-refund"' daemon.log
cp replyd.yaml good.yaml
printf 'rules:\n  paths: [does-not-exist.yaml]\n' >> replyd.yaml
kill -HUP $dpid
expect "a broken configuration on SIGHUP is reported" wait_for 10 grep -q '"event":"reload_failed"' daemon.log
cp "$SRC/examples/mail/it-wrong-size.eml" Maildir/new/it-wrong-size
expect "...and the old one keeps running" wait_for 10 grep -q '"ref":"new/it-wrong-size"' daemon.log
sed 's/format: json/format: logfmt/' good.yaml > replyd.yaml
kill -HUP $dpid
expect "a good configuration is reloaded" wait_for 10 grep -q 'event=reloaded' daemon.log
expect "...and takes effect (the log is logfmt now)" wait_for 10 grep -q '^ts=.* event=' daemon.log
cp good.yaml replyd.yaml
kill -TERM $dpid
rc=0
wait $dpid || rc=$?
dpid=""
expect "SIGTERM: exit 0" eq "$rc" 0
expect "SIGTERM: logged" grep -q 'event=stopped' daemon.log

# --- retention: the daemon purges old texts at start -----------------------------------------
sed 's/^queue:$/queue:\n  retention_days: 30/' good.yaml > purge.yaml
grep -q 'retention_days: 30' purge.yaml
echo 2027-06-01T12:00:00Z > clock
"$R" run --config purge.yaml --clock-file clock 2> purge.log &
dpid=$!
expect "old messages' texts are purged when the daemon starts" wait_for 10 grep -q '"event":"purged"' purge.log
kill -TERM $dpid
wait $dpid || true
dpid=""
rm -f clock
expect "...their buyer addresses and texts are gone, the rows stay" \
  eq "$(sql "SELECT count(*) FROM inbound WHERE buyer IS NOT NULL OR body IS NOT NULL")/$(sql "SELECT count(*) > 0 FROM inbound")" "0/1"

# --- SIGTERM in the middle of a large batch, then kill -9: nothing lost, nothing twice ------
"$PY" "$SRC/tests/queue/gen_messages.py" 3000 --prefix big --out drop/big.jsonl
before=$(sql 'SELECT count(*) FROM inbound')
"$R" run --config replyd.yaml 2> big.log &
dpid=$!
wait_for 30 grep -q '"ref":"big.jsonl:' big.log
kill -TERM $dpid
start=$(date +%s)
rc=0
wait $dpid || rc=$?
dpid=""
took=$(($(date +%s) - start))
expect "SIGTERM mid-batch: exit 0 within 10 s (took ${took}s)" sh -c "[ $rc = 0 ] && [ $took -le 10 ]"
mid=$(sql "SELECT count(*) FROM inbound WHERE msg_id LIKE 'big-%'")
echo "   stored before SIGTERM took effect: $mid of 3000"
"$R" run --config replyd.yaml 2> big2.log &
dpid=$!
wait_for 30 grep -q '"event":"stored","source":"feed"' big2.log
sleep 0.3
kill -9 $dpid
wait $dpid 2>/dev/null || true
dpid=""
rc=0
"$R" run --once --config replyd.yaml 2> big3.log || rc=$?
expect "after kill -9, a restart completes (exit $rc)" eq "$rc" 0
expect "every one of the 3000 stored exactly once" \
  eq "$(sql "SELECT count(*) || '/' || count(DISTINCT msg_id) FROM inbound WHERE msg_id LIKE 'big-%'")" "3000/3000"
expect "the big file is done" test -f drop/done/big.jsonl -a ! -f drop/big.jsonl
expect "all earlier messages are still there once" eq "$(sql 'SELECT count(*) FROM inbound')" "$((before + 3000))"
sent=$(sql "SELECT count(*) FROM replies WHERE state = 'sent'")
# a reply that kill -9 interrupted inside the (non-idempotent) file sink may or
# may not have been written: replyd flags it for a human instead of guessing
flagged=$(sql "SELECT count(*) FROM replies WHERE attention = 'interrupted'")
lines=$(wc -l < out/replies.jsonl | tr -d ' ')
expect "no reply reached the sink twice" eq "$("$PY" -c '
import json, sys
ids = [json.loads(l)["message_id"] for l in open(sys.argv[1])]
print(len(ids) - len(set(ids)))' out/replies.jsonl)" 0
expect "every sent reply reached the sink ($sent sent, $flagged flagged, $lines written)" \
  sh -c "[ $lines -ge $sent ] && [ $lines -le $((sent + flagged)) ]"
expect "no reply left half-sent" eq "$(sql "SELECT count(*) FROM replies WHERE state = 'sending'")" 0

echo "test_run: $checks checks, $fails failed"
[ $fails -eq 0 ]
