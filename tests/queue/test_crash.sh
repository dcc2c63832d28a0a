#!/bin/sh
# test_crash.sh — the reply queue survives `kill -9` at any moment.
#
# usage: sh test_crash.sh REPLYD_BINARY SOURCE_DIR
#        (the plugins are looked for in the folder plugins/ next to the binary)
# exit 0 pass, 1 fail, 77 skip (python3-aiosmtpd missing)
#
# Environment:
#   CRASH_RUNS   processes killed per phase (default 150: about 35 s on the 2-core
#                VM, 45 s with a sanitizer build); CRASH_RUNS=1000 is the long
#                version (about 4 minutes)
#   CRASH_SEED   seed of the kill delays (default: the process id; printed). The
#                same seed gives the same delays, but where a kill lands also
#                depends on the machine's timing.
#   CRASH_KEEP=1 keep the work folder (its path is printed)
#
# Each phase works in rounds: a fresh queue, then the same command started
# again and again in the background and killed with SIGKILL after a random
# delay, until one run ends by itself; then it is run once more. Rounds go on
# until CRASH_RUNS processes have been killed (a process that ended before its
# kill does not count). After the 20th killed run of a round the delays grow
# by 5 ms a run, so that a slow build (sanitizers) still gets to the end.
#
# Phase A, `replyd process` (group commit, queue.commit_every 1, 7 and 500 in
#   turn): every message is in `inbound` exactly once; each has the replies a
#   dry run decides (same templates, same order); no reply without its
#   message; each reply has its creation time (and a 'created' audit record if
#   the queue writes those: then one for every reply); no audit record of a
#   reply that does not exist; every "stored" line any run
#   printed (also the killed ones) is in the queue as printed, and no message
#   was printed "stored" twice; the run after the end finds every message
#   stored before; PRAGMA integrity_check is ok.
# Phase B, `replyd send` through the smtp sink to tests/servers/smtp_server.py,
#   automatic replies and drafts approved with `replyd queue approve`: counting
#   the .eml files the server stored, grouped by Message-ID: no Message-ID
#   arrived twice, ever; every reply that was due is either sent and received
#   exactly once, or failed with attention 'interrupted' and received at most
#   once; nothing else arrived; nothing is left sending or approved; a "sent N"
#   line printed by any run (also a killed one) names a reply that is sent; the
#   audit trail has one 'sending' record per attempt, one 'sent' record per sent
#   reply and one 'interrupted' record per flagged one; the number flagged for a
#   human is printed. Then two `replyd send` started together on one queue (no
#   kills) send every reply exactly once.
# Phase C, `replyd send` through the webhook sink to tests/servers/http_server.py
#   (answering 200): every due reply's Idempotency-Key arrived at least once;
#   every request of a reply carried that reply's key (and a valid signature);
#   every due reply ends sent; nothing is flagged for a human; the same checks
#   of the printed lines and the audit trail as in phase B.
# Every normal run's standard error is searched for sanitizer reports.
set -u

BIN=${1:?usage: sh test_crash.sh REPLYD_BINARY SOURCE_DIR}
SRC=${2:?usage: sh test_crash.sh REPLYD_BINARY SOURCE_DIR}
PLUGINS=$(cd "$(dirname "$BIN")" && pwd)/plugins
GEN=$SRC/tests/queue/gen_messages.py
SMTPD=$SRC/tests/servers/smtp_server.py
HTTPD=$SRC/tests/servers/http_server.py
RUNS=${CRASH_RUNS:-150}
SEED=${CRASH_SEED:-$$}
NMSG=300
MAXDELAY=80
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    echo "SKIP: $PY cannot import aiosmtpd (Debian package python3-aiosmtpd)"
    exit 77
fi
for f in "$BIN" "$PLUGINS/smtp.so" "$PLUGINS/webhook.so" "$GEN" "$SMTPD" "$HTTPD"; do
    [ -e "$f" ] || { echo "FAIL: $f is missing"; exit 1; }
done

T=$(mktemp -d)
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
    fi
}
cleanup() {
    stop_server
    if [ "${CRASH_KEEP:-0}" = 1 ]; then echo "work folder kept: $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

FAILS=0
PASSES=0
ok() { echo "ok - $*"; PASSES=$((PASSES + 1)); }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }

echo "# CRASH_RUNS=$RUNS CRASH_SEED=$SEED"

# ---- random delays: a linear congruential generator in shell arithmetic ------
RSTATE=$((SEED % 2147483648))
rand_upto() { # rand_upto MAX: sets R to 0..MAX
    RSTATE=$(((RSTATE * 1103515245 + 12345) % 2147483648))
    R=$(((RSTATE / 65536) % ($1 + 1)))
}

# ---- the checker (python3, sqlite3 read-only) ---------------------------------
cat >"$T/check.py" <<'PYEOF'
import glob, hashlib, hmac, json, os, sqlite3, sys
from email.parser import BytesHeaderParser

def db(path):
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True)

def fail(problems, msg, limit=20):
    if len(problems) < limit:
        problems.append(msg)
    elif len(problems) == limit:
        problems.append("... (more)")

def lines(path):
    """JSON lines of a file; a last line cut by a kill is ignored."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    parts = text.split("\n")
    for i, l in enumerate(parts):
        if not l:
            continue
        try:
            out.append(json.loads(l))
        except ValueError:
            if i == len(parts) - 1:  # no newline after it: cut by the kill
                continue
            raise
    return out

def cmd_process(queue, dry, final, *outs):
    """Phase A invariants. outs: stdout of every run in order (killed or not)."""
    problems = []
    want = {}
    for d in lines(dry):
        want[d["id"]] = [r["template"] for r in d.get("replies", [])]
    c = db(queue)
    ok = c.execute("PRAGMA integrity_check").fetchall()
    if ok != [("ok",)]:
        fail(problems, "integrity_check: %r" % ok)
    rows = c.execute("SELECT msg_id, count(*) FROM inbound GROUP BY msg_id").fetchall()
    have = dict(rows)
    for mid, n in rows:
        if n != 1:
            fail(problems, "message %s is in inbound %d times" % (mid, n))
        if mid not in want:
            fail(problems, "message %s in inbound is not in the input" % mid)
    for mid in want:
        if mid not in have:
            fail(problems, "message %s is not in inbound" % mid)
    got = {}
    for mid, tpl, automatic, state in c.execute(
            "SELECT i.msg_id, r.template, r.automatic, r.state FROM replies r"
            " JOIN inbound i ON i.id = r.inbound_id ORDER BY i.id, r.seq"):
        got.setdefault(mid, []).append(tpl)
        if state != ("approved" if automatic else "pending_approval"):
            fail(problems, "a reply of %s is %s (automatic=%d)" % (mid, state, automatic))
    for mid, tpls in want.items():
        if got.get(mid, []) != tpls:
            fail(problems, "message %s has replies %r, the dry run decides %r"
                 % (mid, got.get(mid, []), tpls))
    n = c.execute("SELECT count(*) FROM replies r LEFT JOIN inbound i ON i.id = r.inbound_id"
                  " WHERE i.id IS NULL").fetchone()[0]
    if n:
        fail(problems, "%d replies without their message" % n)
    # A reply's creation is in its row (created_at, rule, template); a queue
    # that also writes a 'created' audit record must have one for every reply.
    created = dict(c.execute(
        "SELECT r.id, (SELECT count(*) FROM audit a WHERE a.reply_id = r.id"
        " AND a.action = 'created') FROM replies r"))
    per_reply = set(created.values())
    if per_reply - {0, 1} or len(per_reply) > 1:
        for rid, n in sorted(created.items()):
            if n != max(per_reply):
                fail(problems, "reply %d has %d 'created' audit records, others %d"
                     % (rid, n, max(per_reply)))
    n = c.execute("SELECT count(*) FROM replies WHERE created_at IS NULL OR template IS NULL"
                  " OR created_at <> updated_at").fetchone()[0]
    if n:
        fail(problems, "%d replies without their creation time and template" % n)
    n = c.execute("SELECT count(*) FROM audit a WHERE a.reply_id IS NOT NULL AND NOT EXISTS"
                  " (SELECT 1 FROM replies r WHERE r.id = a.reply_id)").fetchone()[0]
    if n:
        fail(problems, "%d audit records of replies that do not exist" % n)
    nreplies = c.execute("SELECT count(*) FROM replies").fetchone()[0]
    if nreplies != sum(len(v) for v in want.values()):
        fail(problems, "%d replies stored, the dry run decides %d"
             % (nreplies, sum(len(v) for v in want.values())))
    inbound_of = dict(c.execute("SELECT msg_id, id FROM inbound"))
    # every line printed "stored" is in the queue as printed, once
    printed = {}
    for path in outs:
        for d in lines(path):
            if d.get("status") == "stored":
                mid = d["id"]
                if mid in printed:
                    fail(problems, "%s printed 'stored' by two runs (%s, %s)"
                         % (mid, printed[mid], os.path.basename(path)))
                printed[mid] = os.path.basename(path)
                if inbound_of.get(mid) != d.get("inbound"):
                    fail(problems, "%s printed as inbound %r, stored as %r"
                         % (mid, d.get("inbound"), inbound_of.get(mid)))
                if [r["template"] for r in d.get("replies", [])] != got.get(mid, []):
                    fail(problems, "%s printed with other replies than stored" % mid)
            elif d.get("status") not in ("duplicate",):
                fail(problems, "unexpected line in %s: %r" % (os.path.basename(path), d))
    fin = lines(final)
    if len(fin) != len(want) or any(d.get("status") != "duplicate" for d in fin):
        fail(problems, "the run after the end did not find all %d messages stored before"
             % len(want))
    for p in problems:
        print("  " + p)
    print("  %d messages, %d replies; %d printed 'stored', %d committed without their line"
          " (killed between commit and write)"
          % (len(have), nreplies, len(printed), len(have) - len(printed)))
    return 1 if problems else 0

def cmd_due(queue, out):
    """The replies due now: id, message_id, idempotency_key (one per line)."""
    c = db(queue)
    with open(out, "w") as f:
        for rid, mid, key in c.execute(
                "SELECT id, message_id, idempotency_key FROM replies WHERE state = 'approved'"
                " ORDER BY id"):
            f.write("%d %s %s\n" % (rid, mid, key))
    return 0

def read_due(path):
    due = {}
    with open(path) as f:
        for l in f:
            rid, mid, key = l.split()
            due[int(rid)] = (mid, key)
    return due

def send_lines(rundir, states, problems):
    """Every 'sent ID' line a run printed (killed or not) names a reply that is
    sent, and no reply was printed sent twice. Returns how many lines."""
    seen = {}
    for path in sorted(glob.glob(os.path.join(rundir, "*.out"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            for l in f:
                w = l.split()
                if len(w) < 2 or w[0] != "sent" or not l.endswith("\n"):
                    continue
                rid = int(w[1])
                if rid in seen:
                    fail(problems, "reply %d printed 'sent' by two runs" % rid)
                seen[rid] = path
                if states.get(rid) != "sent":
                    fail(problems, "reply %d printed 'sent' but is %s" % (rid, states.get(rid)))
    return len(seen)

def final_states(c, problems):
    # the audit trail tells each attempt: one 'sending' record per attempt,
    # one 'sent' record for a sent reply, one 'interrupted' for a flagged one
    for rid, state, attention, attempts, sending, sent, intr in c.execute(
            "SELECT r.id, r.state, r.attention, r.attempts,"
            " (SELECT count(*) FROM audit a WHERE a.reply_id = r.id AND a.action = 'sending'),"
            " (SELECT count(*) FROM audit a WHERE a.reply_id = r.id AND a.action = 'sent'),"
            " (SELECT count(*) FROM audit a WHERE a.reply_id = r.id"
            "  AND a.action = 'interrupted') FROM replies r"):
        if sending != attempts:
            fail(problems, "reply %d: %d attempts, %d 'sending' audit records"
                 % (rid, attempts, sending))
        if sent != (1 if state == "sent" else 0):
            fail(problems, "reply %d is %s with %d 'sent' audit records" % (rid, state, sent))
        if intr != (1 if attention == "interrupted" else 0):
            fail(problems, "reply %d (attention %r) has %d 'interrupted' audit records"
                 % (rid, attention, intr))
    for st, n in c.execute("SELECT state, count(*) FROM replies WHERE state IN"
                           " ('sending', 'approved') GROUP BY state"):
        fail(problems, "%d replies left %s after the last normal run" % (n, st))

def cmd_smtp(queue, due_path, outdir, label, rundir):
    """Phase B invariants over the .eml files the SMTP server stored."""
    problems = []
    due = read_due(due_path)
    c = db(queue)
    received = {}
    parser = BytesHeaderParser()
    for eml in sorted(glob.glob(os.path.join(outdir, "*.eml"))):
        with open(eml, "rb") as f:
            h = parser.parse(f)
        mid = (h.get("Message-ID") or "").strip()
        received[mid] = received.get(mid, 0) + 1
    by_mid = {}
    for rid, mid, state, attention, inb in c.execute(
            "SELECT id, message_id, state, attention, inbound_id FROM replies"):
        by_mid[mid] = (rid, state, attention)
    for mid, n in received.items():
        if n > 1:
            fail(problems, "Message-ID %s received %d times" % (mid, n))
        if mid not in by_mid:
            fail(problems, "received a message that is no reply of the queue: %r" % mid)
        elif by_mid[mid][0] not in due:
            fail(problems, "reply %d was not due but arrived" % by_mid[mid][0])
    flagged = sent = 0
    for rid, (mid, key) in due.items():
        _, state, attention = by_mid[mid]
        n = received.get(mid, 0)
        if state == "sent":
            sent += 1
            if n != 1:
                fail(problems, "reply %d is sent but arrived %d times" % (rid, n))
        elif state == "failed" and attention == "interrupted":
            flagged += 1
            if n > 1:
                fail(problems, "reply %d (interrupted) arrived %d times" % (rid, n))
        else:
            fail(problems, "reply %d ended %s (attention %r), received %d times"
                 % (rid, state, attention, n))
    final_states(c, problems)
    send_lines(rundir, dict(c.execute("SELECT id, state FROM replies")), problems)
    for p in problems:
        print("  " + p)
    print("  %s: %d due, %d sent, %d flagged 'interrupted' for a human (%d of them arrived),"
          " %d messages received"
          % (label, len(due), sent, flagged,
             sum(1 for rid, (mid, _) in due.items()
                 if by_mid[mid][1] == "failed" and received.get(mid)), sum(received.values())))
    return 1 if problems else 0

def cmd_webhook(queue, due_path, log, secret, rundir):
    """Phase C invariants over the requests http_server.py logged."""
    problems = []
    due = read_due(due_path)
    key_of = {rid: key for rid, (mid, key) in due.items()}
    rid_of_key = {key: rid for rid, key in key_of.items()}
    c = db(queue)
    keys_by_reply = {}
    count_by_key = {}
    partial = 0
    for rec in lines(log):
        key = rec["header"].get("idempotency-key")
        count_by_key[key] = count_by_key.get(key, 0) + 1
        if key not in rid_of_key:
            fail(problems, "request %d carries an unknown Idempotency-Key %r" % (rec["seq"], key))
        body = rec.get("body")
        try:
            doc = json.loads(body)
        except (TypeError, ValueError):
            partial += 1  # cut by a kill while the request went out
            continue
        rid = int(doc["reply_id"])
        keys_by_reply.setdefault(rid, set()).add(key)
        if doc.get("idempotency_key") != key:
            fail(problems, "request %d: body key %r, header key %r"
                 % (rec["seq"], doc.get("idempotency_key"), key))
        ts = rec["header"].get("x-replyd-timestamp", "")
        sig = rec["header"].get("x-replyd-signature", "")
        mac = hmac.new(secret.encode(), ts.encode() + b"." + body.encode("utf-8"),
                       hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, "sha256=" + mac):
            fail(problems, "request %d: bad signature" % rec["seq"])
    again = 0
    for rid, keys in keys_by_reply.items():
        if rid not in key_of:
            fail(problems, "reply %d was not due but arrived" % rid)
        elif keys != {key_of[rid]}:
            fail(problems, "reply %d arrived with keys %r, its key is %r"
                 % (rid, sorted(keys), key_of[rid]))
    for rid, key in key_of.items():
        n = count_by_key.get(key, 0)
        if n < 1:
            fail(problems, "reply %d: its Idempotency-Key never arrived" % rid)
        if n > 1:
            again += 1
    states = dict(c.execute("SELECT id, state FROM replies"))
    for rid in due:
        if states[rid] != "sent":
            fail(problems, "reply %d ended %s" % (rid, states[rid]))
    n = c.execute("SELECT count(*) FROM replies WHERE attention IS NOT NULL").fetchone()[0]
    if n:
        fail(problems, "%d replies flagged for a human" % n)
    final_states(c, problems)
    send_lines(rundir, states, problems)
    for p in problems:
        print("  " + p)
    print("  %d due, %d requests, %d replies arrived more than once (same key), %d requests"
          " cut by a kill" % (len(due), sum(count_by_key.values()), again, partial))
    return 1 if problems else 0

def cmd_now():
    """Now, or a minute after the test team's only business minute (09:00 UTC
    on weekdays), so that the after-hours rule sends acknowledgements."""
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    if t.weekday() < 5 and t.hour == 9 and t.minute == 0:
        t -= datetime.timedelta(minutes=2)
    print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return 0

if __name__ == "__main__":
    sys.exit(globals()["cmd_" + sys.argv[1]](*sys.argv[2:]))
PYEOF
check() { "$PY" "$T/check.py" "$@"; }

NOW=$(check now)
"$PY" "$GEN" "$NMSG" --out "$T/msgs.jsonl" || { echo "FAIL: generator"; exit 1; }

# config FILE COMMIT_EVERY [SINK_YAML]
config() {
    cat >"$1" <<EOF
seller: { name: Crash Test Shop }
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
delivery:
  max_attempts: 8
${3:-}
EOF
}

# crash_loop DIR COMMAND...: run COMMAND (stdout to DIR/run-NNN.out) in the
# background and kill -9 it after a random delay, until a run ends by itself.
# Adds to KILLED; sets LAST_RC. Fails on an exit status other than
# 0, 1 or a kill.
KILLED=0
crash_loop() {
    dir=$1; shift
    mkdir -p "$dir"
    n=0
    while :; do
        n=$((n + 1))
        max=$MAXDELAY
        [ $n -gt 20 ] && max=$((MAXDELAY + (n - 20) * 5))
        rand_upto "$max"
        out=$(printf '%s/run-%03d' "$dir" "$n")
        "$@" >"$out.out" 2>"$out.err" &
        pid=$!
        sleep "$(printf '%d.%03d' $((R / 1000)) $((R % 1000)))"
        kill -9 "$pid" 2>/dev/null
        { wait "$pid"; } 2>/dev/null # no "Killed" line from the shell
        LAST_RC=$?
        if [ $LAST_RC -eq 137 ]; then
            KILLED=$((KILLED + 1))
            continue
        fi
        if [ $LAST_RC -gt 1 ]; then
            bad "run $n of $dir ended with status $LAST_RC:"
            sed 's/^/    /' "$out.err" | head -5
        fi
        return 0
    done
}

# sanitizer reports in DIR's standard error files (UBSan does not change the
# exit status unless told to)
sanitizer_clean() {
    if grep -l 'runtime error:\|Sanitizer' "$1"/*.err >/dev/null 2>&1; then
        bad "sanitizer reports in $1:"
        grep -h -A3 'runtime error:\|Sanitizer' "$1"/*.err | head -20 | sed 's/^/    /'
        CRASH_KEEP=1
    fi
}

# ---- Phase A: replyd process ------------------------------------------------------
config "$T/dryrun.yaml" 500
"$BIN" process --dry-run --config "$T/dryrun.yaml" --now "$NOW" "$T/msgs.jsonl" >"$T/dry.jsonl" ||
    { echo "FAIL: dry run"; exit 1; }
KILLED=0
round=0
started=$(date +%s)
while [ $KILLED -lt "$RUNS" ]; do
    round=$((round + 1))
    case $((round % 3)) in 1) ce=1 ;; 2) ce=7 ;; *) ce=500 ;; esac
    R_DIR=$T/a$round
    mkdir -p "$R_DIR"
    config "$R_DIR/replyd.yaml" "$ce"
    before=$KILLED
    crash_loop "$R_DIR" "$BIN" process --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" \
        --now "$NOW" "$T/msgs.jsonl"
    "$BIN" process --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" --now "$NOW" \
        "$T/msgs.jsonl" >"$R_DIR/final.out" 2>"$R_DIR/final.err" ||
        bad "process round $round: the run after the end failed"
    sanitizer_clean "$R_DIR"
    echo "# A round $round (commit_every $ce): $((KILLED - before)) killed, then a normal run"
    if check process "$R_DIR/q.db" "$T/dry.jsonl" "$R_DIR/final.out" "$R_DIR"/run-*.out; then
        ok "process round $round (commit_every $ce)"
    else
        bad "process round $round (commit_every $ce); work folder $R_DIR"
        CRASH_KEEP=1
    fi
done
A_KILLED=$KILLED
echo "# phase A: $A_KILLED kills in $round rounds, $(($(date +%s) - started)) s"

# ---- Phase B: replyd send over SMTP ---------------------------------------------------
# start_smtp DIR: sets PORT
start_smtp() {
    "$PY" "$SMTPD" --port-file "$1/port" --out "$1/out" --stats "$1/stats.json" --quiet \
        >"$1/server.log" 2>&1 &
    SERVER_PID=$!
    i=0
    while [ ! -s "$1/port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && { cat "$1/server.log"; echo "FAIL: the SMTP server did not start"; exit 1; }
        sleep 0.1
    done
    PORT=$(cat "$1/port")
}

# prepare DIR SINK_YAML: fresh queue with automatic replies and approved drafts
prepare() {
    config "$1/replyd.yaml" 500 "$2"
    "$BIN" process --queue "$1/q.db" --config "$1/replyd.yaml" --now "$NOW" \
        "$T/msgs.jsonl" >/dev/null 2>"$1/process.err" || { bad "process in $1"; return 1; }
    for filter in "--intent order_status" "--marketplace amazon.co.jp"; do
        # shellcheck disable=SC2086
        "$BIN" queue approve --all --yes --operator test $filter --queue "$1/q.db" \
            --config "$1/replyd.yaml" >/dev/null 2>>"$1/approve.err" ||
            { bad "approve $filter in $1"; sed 's/^/    /' "$1/approve.err"; return 1; }
    done
    check due "$1/q.db" "$1/due.txt"
}

smtp_sink() {
    printf '  sink: mail\n  sinks:\n    mail: { plugin: smtp, options: { url: "smtp://127.0.0.1:%s", tls: none } }\n' "$1"
}

KILLED=0
round=0
started=$(date +%s)
FLAGGED=0
while [ $KILLED -lt "$RUNS" ]; do
    round=$((round + 1))
    R_DIR=$T/b$round
    mkdir -p "$R_DIR"
    start_smtp "$R_DIR"
    prepare "$R_DIR" "$(smtp_sink "$PORT")" || { stop_server; break; }
    before=$KILLED
    crash_loop "$R_DIR" "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml"
    "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" >"$R_DIR/final.out" \
        2>"$R_DIR/final.err"
    grep -q '^sent\|^attention\|^failed' "$R_DIR/final.out" &&
        bad "send round $round: the run after the end still sent something"
    stop_server
    sanitizer_clean "$R_DIR"
    echo "# B round $round: $((KILLED - before)) killed, then a normal run"
    if check smtp "$R_DIR/q.db" "$R_DIR/due.txt" "$R_DIR/out" "round $round" "$R_DIR" \
        >"$R_DIR/check.txt"; then
        ok "send over SMTP, round $round"
    else
        bad "send over SMTP, round $round; work folder $R_DIR"
        CRASH_KEEP=1
    fi
    cat "$R_DIR/check.txt"
    f=$(sed -n 's/.* \([0-9]*\) flagged .*/\1/p' "$R_DIR/check.txt")
    FLAGGED=$((FLAGGED + ${f:-0}))
done
B_KILLED=$KILLED
echo "# phase B: $B_KILLED kills in $round rounds, $FLAGGED replies flagged 'interrupted'," \
    "$(($(date +%s) - started)) s"

# two senders at once, no kills
R_DIR=$T/b-concurrent
mkdir -p "$R_DIR"
start_smtp "$R_DIR"
if prepare "$R_DIR" "$(smtp_sink "$PORT")"; then
    "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" >"$R_DIR/s1.out" 2>"$R_DIR/s1.err" &
    p1=$!
    "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" >"$R_DIR/s2.out" 2>"$R_DIR/s2.err" &
    p2=$!
    wait $p1; rc1=$?
    wait $p2; rc2=$?
    stop_server
    if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
        bad "concurrent senders exited $rc1 and $rc2"
        cat "$R_DIR"/s?.err
    fi
    sanitizer_clean "$R_DIR"
    n1=$(grep -c '^sent ' "$R_DIR/s1.out"); n2=$(grep -c '^sent ' "$R_DIR/s2.out")
    if check smtp "$R_DIR/q.db" "$R_DIR/due.txt" "$R_DIR/out" "two senders" "$R_DIR" \
        >"$R_DIR/check.txt" &&
        ! grep -q ' [1-9][0-9]* flagged' "$R_DIR/check.txt"; then
        ok "two senders at once send every reply exactly once ($n1 + $n2)"
    else
        bad "two senders at once; work folder $R_DIR"
        CRASH_KEEP=1
    fi
    cat "$R_DIR/check.txt"
else
    stop_server
fi

# ---- Phase C: replyd send over the webhook (idempotent) -------------------------------
SECRET=crash-test-signing-key-0123456789
export REPLYD_CRASH_WEBHOOK_KEY="$SECRET"
# The server is run with Nagle's algorithm off on its sockets: it writes an
# answer's header and body separately, and with Nagle on, every answer on a
# kept-alive connection waits for the client's delayed ACK (about 40 ms).
start_http() {
    "$PY" -c 'import runpy, socketserver, sys
socketserver.StreamRequestHandler.disable_nagle_algorithm = True
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")' "$HTTPD" --port-file "$1/port" --log "$1/requests.jsonl" --script 200 \
        >"$1/server.log" 2>&1 &
    SERVER_PID=$!
    i=0
    while [ ! -s "$1/port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && { cat "$1/server.log"; echo "FAIL: the HTTP server did not start"; exit 1; }
        sleep 0.1
    done
    PORT=$(cat "$1/port")
}
hook_sink() {
    printf '  sink: hook\n  sinks:\n    hook: { plugin: webhook, options: { url: "http://127.0.0.1:%s/hook", secret_env: REPLYD_CRASH_WEBHOOK_KEY, timeout_ms: 10000 } }\n' "$1"
}
KILLED=0
round=0
started=$(date +%s)
while [ $KILLED -lt "$RUNS" ]; do
    round=$((round + 1))
    R_DIR=$T/c$round
    mkdir -p "$R_DIR"
    start_http "$R_DIR"
    prepare "$R_DIR" "$(hook_sink "$PORT")" || { stop_server; break; }
    before=$KILLED
    crash_loop "$R_DIR" "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml"
    "$BIN" send --queue "$R_DIR/q.db" --config "$R_DIR/replyd.yaml" >"$R_DIR/final.out" \
        2>"$R_DIR/final.err"
    stop_server
    sanitizer_clean "$R_DIR"
    echo "# C round $round: $((KILLED - before)) killed, then a normal run"
    if check webhook "$R_DIR/q.db" "$R_DIR/due.txt" "$R_DIR/requests.jsonl" "$SECRET" "$R_DIR"; then
        ok "send over the webhook, round $round"
    else
        bad "send over the webhook, round $round; work folder $R_DIR"
        CRASH_KEEP=1
    fi
done
C_KILLED=$KILLED
echo "# phase C: $C_KILLED kills in $round rounds, $(($(date +%s) - started)) s"

echo "# kills: process $A_KILLED, send/smtp $B_KILLED, send/webhook $C_KILLED;" \
    "$FLAGGED SMTP replies flagged 'interrupted'"
echo "crash: $PASSES passed, $FAILS failed"
[ $FAILS -eq 0 ]
