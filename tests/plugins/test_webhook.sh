#!/bin/sh
# test_webhook.sh — the webhook sink plugin against tests/servers/http_server.py
# on 127.0.0.1: request format and signature, result mapping for every kind of
# answer (status codes, Retry-After, timeout, dropped and refused connections),
# connection reuse, option errors, UTF-8 bodies, the sanitised detail line.
#
# usage: sh test_webhook.sh SINK_DRIVER PLUGIN_DIR SOURCE_DIR
# exit: 0 pass, 1 fail, 77 skip
set -eu

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/webhook.so
SERVER=$SRC/tests/servers/http_server.py
FIX=$SRC/tests/plugins/fixtures
MSG=$FIX/webhook_message.json
MSG_JA=$FIX/webhook_message_ja.json
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "SKIP: python3 is needed for the test server (Debian package python3)"
    exit 77
fi
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }

# loopback only: no proxy from the environment
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY || true

start_tmp

fail() {
    echo "FAIL: $*"
    exit 1
}

# start_server NAME [server args...]: sets PORT; log in $T/NAME.log
start_server() {
    name=$1
    shift
    "$PY" "$SERVER" --port-file "$T/$name.port" --log "$T/$name.log" "$@" \
        2>"$T/$name.stderr" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$T/$name.port" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || { cat "$T/$name.stderr"; fail "server $name did not start in 10 s"; }
        sleep 0.1
    done
    PORT=$(cat "$T/$name.port")
    : >>"$T/$name.log"
}

# drive OUT MESSAGE COUNT [key=value...]: runs sink_driver in $T (the host's
# base_dir is "."), output in $T/OUT, exit status in RC
drive() {
    out=$T/$1
    shift
    RC=0
    (cd "$T" && "$DRIVER" "$PLUGIN" "$@") >"$out" 2>"$out.err" || RC=$?
}

# expect_rc WANT OUT
expect_rc() {
    [ "$RC" = "$1" ] || { cat "$T/$2" "$T/$2.err"; fail "$2: exit status $RC, want $1"; }
}

# expect_line OUT N TEXT: line N of OUT is exactly TEXT
expect_line() {
    got=$(sed -n "$2p" "$T/$1")
    [ "$got" = "$3" ] || { cat "$T/$1"; fail "$1 line $2: got [$got], want [$3]"; }
}

# expect_prefix OUT N PREFIX
expect_prefix() {
    got=$(sed -n "$2p" "$T/$1")
    case "$got" in
    "$3"*) ;;
    *) cat "$T/$1"; fail "$1 line $2: got [$got], want it to start with [$3]" ;;
    esac
}

expect_lines() {
    n=$(wc -l <"$T/$1")
    [ "$n" -eq "$2" ] || { cat "$T/$1"; fail "$1: $n lines, want $2"; }
}

# the request checks shared by several cases, in Python:
# check_request.py LOG SEQ MESSAGE N PREFIX KEYMODE KEY  (KEYMODE: env NAME | file PATH | none -)
cat >"$T/check_request.py" <<'EOF'
import hashlib, hmac, json, os, re, sys, time
log, seq, msgfile, n, prefix, keymode, keyarg = sys.argv[1:8]
seq, n = int(seq), int(n)
recs = [json.loads(l) for l in open(log, encoding="utf-8")]
r = [x for x in recs if x["seq"] == seq][0]
def die(m):
    sys.exit("request %d: %s" % (seq, m))
if r["method"] != "POST" or r["path"] != "/hook?src=replyd":
    die("method/path %s %s" % (r["method"], r["path"]))
if r["body"] is None:
    die("body is not UTF-8")
raw = r["body"].encode("utf-8")
names = [k for k, v in r["headers"]]
h = r["header"]
want = {"content-type": "application/json; charset=utf-8", "user-agent": "replyd",
        "content-length": str(len(raw))}
for k, v in want.items():
    if h.get(k) != v:
        die("header %s is %r, want %r" % (k, h.get(k), v))
if "expect" in h or "transfer-encoding" in h:
    die("unexpected Expect or Transfer-Encoding header")
m = json.load(open(msgfile, encoding="utf-8"))
key = m["idempotency_key"].replace("{n}", str(n))
if "Idempotency-Key" not in names or h["idempotency-key"] != key:
    die("Idempotency-Key %r, want %r" % (h.get("idempotency-key"), key))
for suffix in ("Timestamp", "Attempt") + (("Signature",) if keymode != "none" else ()):
    if prefix + suffix not in names:
        die("no %s%s header (have %s)" % (prefix, suffix, names))
if keymode == "none" and any(x.lower().endswith("signature") for x in names):
    die("unsigned request carries a signature")
if prefix != "X-Replyd-" and any(x.startswith("X-Replyd-") for x in names):
    die("X-Replyd- headers despite header_prefix")
ts = h[(prefix + "timestamp").lower()]
if not re.fullmatch(r"[0-9]+", ts) or abs(int(ts) - time.time()) > 60:
    die("timestamp %r not within 60 s of now" % ts)
if h[(prefix + "attempt").lower()] != str(m.get("attempt", 1)):
    die("attempt header %r" % h[(prefix + "attempt").lower()])
if keymode != "none":
    if keymode == "env":
        secret = os.environb[keyarg.encode()]
    else:
        secret = open(keyarg, "rb").read().rstrip(b"\r\n")
    sig = h[(prefix + "signature").lower()]
    if not re.fullmatch(r"sha256=[0-9a-f]{64}", sig):
        die("signature %r malformed" % sig)
    good = hmac.new(secret, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, "sha256=" + good):
        die("signature does not verify")
# the body: exactly these fields, compact with sorted keys
body = json.loads(raw)
fields = ["kind", "reply_id", "idempotency_key", "message_id", "from", "from_name", "to",
          "subject", "body", "in_reply_to", "references", "language", "marketplace",
          "order_id", "template_id", "inbound_id", "date", "attempt", "automatic"]
if sorted(body) != sorted(fields):
    die("fields %s" % sorted(body))
exp = {}
for f in fields[:16]:
    v = m.get(f)
    if isinstance(v, str) and f in ("reply_id", "idempotency_key", "message_id"):
        v = v.replace("{n}", str(n))
    exp[f] = v
# sink_driver passes neither kind nor automatic today: the defaults then
exp["kind"] = m.get("kind") or "reply"
exp["date"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m["date"]))
exp["attempt"] = m.get("attempt", 1)
exp["automatic"] = bool(m.get("automatic", False))
for f in fields:
    if body[f] != exp[f] or type(body[f]) is not type(exp[f]):
        die("field %s is %r, want %r" % (f, body[f], exp[f]))
canon = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
if canon.encode("utf-8") != raw:
    die("body is not compact JSON with sorted keys")
EOF

checkreq() {
    "$PY" "$T/check_request.py" "$@" || fail "request check failed ($*)"
}

# the number of requests a server has logged
count_requests() {
    wc -l <"$T/$1.log" | tr -d ' '
}

export WH_TEST_SECRET='k3y with spaces, "quotes" & ümläute'

# --- (a) 200: the request, its headers and signature ---------------------------
start_server a --script 200
drive a.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 a.out
expect_lines a.out 1
expect_line a.out 1 'OK HTTP 200: {"status":200,"request":1}'
checkreq "$T/a.log" 1 "$MSG" 1 X-Replyd- env WH_TEST_SECRET
# the receiver recipe of docs/sink-webhook.md, with openssl
if command -v openssl >/dev/null 2>&1; then
    "$PY" -c 'import json,sys
r = json.loads(open(sys.argv[1], encoding="utf-8").readline())
open(sys.argv[2], "wb").write(r["body"].encode("utf-8"))
print(r["header"]["x-replyd-timestamp"], r["header"]["x-replyd-signature"])' \
        "$T/a.log" "$T/a.body" >"$T/a.hdr"
    read -r ts sig <"$T/a.hdr"
    mine=$({ printf '%s.' "$ts"; cat "$T/a.body"; } |
        openssl dgst -sha256 -hmac "$WH_TEST_SECRET" | sed 's/^.*= //')
    [ "sha256=$mine" = "$sig" ] || fail "openssl recipe: sha256=$mine, header $sig"
fi

# custom prefix, key from a file (trailing newline not part of the key)
printf 'file-key-0123456789\n' >"$T/hook.key"
chmod 600 "$T/hook.key"
drive a2.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_file=hook.key \
    header_prefix=X-Acme-
expect_rc 0 a2.out
expect_line a2.out 1 'OK HTTP 200: {"status":200,"request":2}'
checkreq "$T/a.log" 2 "$MSG" 1 X-Acme- file "$T/hook.key"

# unsigned on request
drive a3.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" unsigned=true
expect_rc 0 a3.out
expect_line a3.out 1 'OK HTTP 200: {"status":200,"request":3}'
checkreq "$T/a.log" 3 "$MSG" 1 X-Replyd- none -
[ "$(count_requests a)" = 3 ] || fail "server a logged $(count_requests a) requests, want 3"

# --- (b) status codes, through one instance -------------------------------------
start_server b --script '429:7,500,503,400,404,301,408,503:120,425,429:date+30,202'
drive b.out "$MSG" 11 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 1 b.out
expect_lines b.out 11
expect_line b.out 1 'RETRY retry-after=7 HTTP 429: {"status":429,"request":1}'
expect_line b.out 2 'RETRY HTTP 500: {"status":500,"request":2}'
expect_line b.out 3 'RETRY HTTP 503: {"status":503,"request":3}'
expect_line b.out 4 'PERMANENT HTTP 400: {"status":400,"request":4}'
expect_line b.out 5 'PERMANENT HTTP 404: {"status":404,"request":5}'
expect_line b.out 6 'PERMANENT HTTP 301: {"status":301,"request":6}'
expect_line b.out 7 'RETRY HTTP 408: {"status":408,"request":7}'
expect_line b.out 8 'RETRY retry-after=120 HTTP 503: {"status":503,"request":8}'
expect_line b.out 9 'RETRY HTTP 425: {"status":425,"request":9}'
got=$(sed -n 10p "$T/b.out")
case "$got" in
'RETRY retry-after=28 HTTP 429: '* | 'RETRY retry-after=29 HTTP 429: '* | \
    'RETRY retry-after=30 HTTP 429: '*) ;;
*) fail "b.out line 10 (Retry-After as HTTP-date): [$got]" ;;
esac
expect_line b.out 11 'OK HTTP 202: {"status":202,"request":11}'
# no redirect followed, no request repeated, one connection throughout
"$PY" - "$T/b.log" <<'EOF' || fail "server b log"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(recs) == 11, len(recs)
assert all(r["path"] == "/hook?src=replyd" for r in recs), [r["path"] for r in recs]
keys = [r["header"]["idempotency-key"] for r in recs]
assert keys == ["replyd-test-key-%d" % i for i in range(1, 12)], keys
assert len({r["conn"] for r in recs}) == 1, [r["conn"] for r in recs]
EOF

# --- (c) no answer in time after the request went out: UNKNOWN -----------------
start_server c --script timeout --timeout-sleep 2
t0=$("$PY" -c 'import time; print(int(time.monotonic() * 1000))')
drive c.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET \
    timeout_ms=500
t1=$("$PY" -c 'import time; print(int(time.monotonic() * 1000))')
expect_rc 1 c.out
expect_prefix c.out 1 'UNKNOWN no answer within 500 ms after the request was sent: '
[ $((t1 - t0)) -lt 1800 ] || fail "timeout_ms=500 took $((t1 - t0)) ms"
[ "$(count_requests c)" = 1 ] || fail "server c logged $(count_requests c) requests, want 1"
checkreq "$T/c.log" 1 "$MSG" 1 X-Replyd- env WH_TEST_SECRET

# --- (d) connection dropped after the request: UNKNOWN, sent exactly once -------
start_server d --script drop
drive d.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 1 d.out
expect_prefix d.out 1 'UNKNOWN connection lost after the request was sent: '
[ "$(count_requests d)" = 1 ] || fail "server d logged $(count_requests d) requests, want 1"
checkreq "$T/d.log" 1 "$MSG" 1 X-Replyd- env WH_TEST_SECRET
# on a reused connection too: libcurl must not send it again by itself
start_server d2 --script '200,drop,200'
drive d2.out "$MSG" 3 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 1 d2.out
expect_line d2.out 1 'OK HTTP 200: {"status":200,"request":1}'
expect_prefix d2.out 2 'UNKNOWN connection lost after the request was sent: '
expect_line d2.out 3 'OK HTTP 200: {"status":200,"request":3}'
[ "$(count_requests d2)" = 3 ] || fail "server d2 logged $(count_requests d2) requests, want 3"

# --- (e) connection refused: RETRY ---------------------------------------------
CLOSED=$("$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
drive e.out "$MSG" 1 "url=http://127.0.0.1:$CLOSED/hook" secret_env=WH_TEST_SECRET \
    connect_timeout_ms=2000
expect_rc 1 e.out
expect_prefix e.out 1 'RETRY not sent: '
# and a name that cannot resolve (".invalid" is reserved, RFC 6761)
drive e2.out "$MSG" 1 "url=http://replyd-test.invalid/hook" secret_env=WH_TEST_SECRET \
    connect_timeout_ms=2000 timeout_ms=4000
expect_rc 1 e2.out
expect_prefix e2.out 1 'RETRY not sent: '

# --- (f) five sends through one instance, one connection -------------------------
start_server f --script 200
drive f.out "$MSG" 5 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 f.out
expect_lines f.out 5
for i in 1 2 3 4 5; do
    expect_line f.out $i "OK HTTP 200: {\"status\":200,\"request\":$i}"
    checkreq "$T/f.log" $i "$MSG" $i X-Replyd- env WH_TEST_SECRET
done
"$PY" - "$T/f.log" <<'EOF' || fail "server f log"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(recs) == 5, len(recs)
assert [json.loads(r["body"])["reply_id"] for r in recs] == ["r%d" % i for i in range(1, 6)]
# connection reuse: one TCP connection, one client port
assert {r["conn"] for r in recs} == {1}, [r["conn"] for r in recs]
assert len({r["client_port"] for r in recs}) == 1, [r["client_port"] for r in recs]
EOF

# a large body (over libcurl's 1 MiB threshold for Expect: 100-continue)
"$PY" - "$MSG" "$T/big.json" <<'EOF' || fail "making the large message"
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
m["body"] = "Lorem ipsum dolor sit amet. " * 45000
json.dump(m, open(sys.argv[2], "w", encoding="utf-8"))
EOF
start_server f2 --script 200
drive f2.out "$T/big.json" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 f2.out
expect_line f2.out 1 'OK HTTP 200: {"status":200,"request":1}'
checkreq "$T/f2.log" 1 "$T/big.json" 1 X-Replyd- env WH_TEST_SECRET

# --- (g) option errors ---------------------------------------------------------------
# expect_open_error OUT SUBSTRING options...
# sink_driver returns at once after a failed open without freeing what it
# holds; under LeakSanitizer those leaks are tolerated here (exitcode=0) but
# a leak whose stack passes through the plugin fails the case.
expect_open_error() {
    o=$1
    want=$2
    shift 2
    RC=0
    (
        cd "$T"
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
        LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=0"
        export ASAN_OPTIONS LSAN_OPTIONS
        exec "$DRIVER" "$PLUGIN" "$MSG" 1 "$@"
    ) >"$T/$o" 2>"$T/$o.err" || RC=$?
    expect_rc 2 "$o"
    if grep -q -e 'plugins/webhook/' -e 'webhook\.so' "$T/$o.err"; then
        cat "$T/$o.err"
        fail "$o: memory allocated through the plugin leaks after a failed open"
    fi
    got=$(cat "$T/$o")
    case "$got" in
    "OPEN-ERROR webhook: "*"$want"*) ;;
    *) fail "$o: got [$got], want an open error containing [$want]" ;;
    esac
}
U=http://127.0.0.1:9/hook
printf 'k\n' >"$T/k644"
chmod 644 "$T/k644"
expect_open_error g1.out 'secret_file ./k644 is accessible by group or others (mode 0644)' \
    url=$U secret_file=k644
printf 'k\n' >"$T/k640"
chmod 640 "$T/k640"
expect_open_error g2.out '(mode 0640)' url=$U secret_file=k640
expect_open_error g3.out "unknown option 'bogus'" url=$U secret_env=WH_TEST_SECRET bogus=1
expect_open_error g4.out "option 'secret' is not supported" url=$U secret=plain
expect_open_error g5.out 'a signing key is required' url=$U
expect_open_error g6.out 'a signing key is required' url=$U unsigned=false
expect_open_error g7.out "environment variable 'WH_TEST_NOT_SET' is not set" \
    url=$U secret_env=WH_TEST_NOT_SET
expect_open_error g8.out 'url must start with http:// or https://' \
    url=ftp://127.0.0.1/x secret_env=WH_TEST_SECRET
expect_open_error g9.out "option 'url' is required" secret_env=WH_TEST_SECRET
expect_open_error g10.out 'timeout_ms must be a number' url=$U secret_env=WH_TEST_SECRET \
    timeout_ms=0
expect_open_error g11.out 'connect_timeout_ms must be a number' url=$U \
    secret_env=WH_TEST_SECRET connect_timeout_ms=5s
expect_open_error g12.out "'unsigned: true' contradicts secret_env" url=$U \
    secret_env=WH_TEST_SECRET unsigned=true
expect_open_error g13.out "option 'headers' is not supported" url=$U \
    secret_env=WH_TEST_SECRET headers=X-A:1
expect_open_error g14.out 'header_prefix must be' url=$U secret_env=WH_TEST_SECRET \
    'header_prefix=X Bad-'
expect_open_error g15.out 'ca_file ./missing.pem: No such file' url=$U \
    secret_env=WH_TEST_SECRET ca_file=missing.pem
: >"$T/empty.key"
chmod 600 "$T/empty.key"
expect_open_error g16.out 'secret_file ./empty.key is empty' url=$U secret_file=empty.key
expect_open_error g17.out "given twice" url=$U url=$U secret_env=WH_TEST_SECRET
expect_open_error g18.out 'give secret_env or secret_file, not both' url=$U \
    secret_env=WH_TEST_SECRET secret_file=hook.key

# --- (h) Japanese text arrives as UTF-8 JSON -------------------------------------------
start_server h --script 200
drive h.out "$MSG_JA" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 h.out
expect_line h.out 1 'OK HTTP 200: {"status":200,"request":1}'
checkreq "$T/h.log" 1 "$MSG_JA" 1 X-Replyd- env WH_TEST_SECRET
"$PY" - "$T/h.log" <<'EOF' || fail "Japanese body"
import json, sys
r = json.loads(open(sys.argv[1], encoding="utf-8").readline())
raw = r["body"].encode("utf-8")
# the characters themselves, not \u escapes
assert "ご注文の商品は明日発送いたします。".encode("utf-8") in raw, raw
assert b"\\u" not in raw, raw
b = json.loads(raw)
assert b["body"] == "お問い合わせありがとうございます。\nご注文の商品は明日発送いたします。\n\nサンプル店"
assert b["subject"] == "Re: ご注文について" and b["from_name"] == "サンプル店"
assert b["in_reply_to"] is None and b["references"] is None and b["order_id"] == "503-1234567-7654321"
EOF

# --- (i) the detail line: one line, no addresses, 200 bytes of the answer at most ---
BODY_I=$(printf 'Thanks!\tQueued for Buyer.Name+tag@example.co.jp,\r\nsee https://status.example/q?u=a%%40b.example \001 ok %0300d' 7)
start_server i --script 200 --body "$BODY_I"
drive i.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 i.out
expect_lines i.out 1
"$PY" - "$T/i.out" <<'EOF' || fail "sanitised detail"
import sys
line = open(sys.argv[1], "rb").read()
assert line.endswith(b"\n") and line.count(b"\n") == 1, line
line = line[:-1]
head = b"OK HTTP 200: "
assert line.startswith(head), line
text = line[len(head):]
want = b"Thanks! Queued for [address], see https://status.example/q?u=[address] ok "
assert text.startswith(want), text
assert len(text) == 200 and text == want + b"0" * (200 - len(want)), (len(text), text)
assert b"@" not in line and b"example.co.jp" not in line and b"b.example" not in line
assert all(32 <= c < 127 for c in line), line
EOF
# multi-byte answers are cut at a character boundary
BODY_J=$("$PY" -c 'print("受付済み" * 40)')
start_server j --script 200 --body "$BODY_J"
drive j.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_rc 0 j.out
"$PY" - "$T/j.out" <<'EOF' || fail "UTF-8 detail"
import sys
line = open(sys.argv[1], "rb").read().rstrip(b"\n")
text = line[len(b"OK HTTP 200: "):].decode("utf-8")
assert text == ("受付済み" * 40)[:66], text
EOF

# --- (k) the cue queue file of the server can be changed between runs -------------
printf '500\n200\n' >"$T/cues"
start_server k --script-file "$T/cues"
drive k1.out "$MSG" 1 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_line k1.out 1 'RETRY HTTP 500: {"status":500,"request":1}'
[ "$(cat "$T/cues")" = 200 ] || fail "cue file after one request: [$(cat "$T/cues")]"
printf '503:5, 202\n' >"$T/cues.new"
mv "$T/cues.new" "$T/cues"
drive k2.out "$MSG" 3 "url=http://127.0.0.1:$PORT/hook?src=replyd" secret_env=WH_TEST_SECRET
expect_line k2.out 1 'RETRY retry-after=5 HTTP 503: {"status":503,"request":2}'
expect_line k2.out 2 'OK HTTP 202: {"status":202,"request":3}'
expect_line k2.out 3 'OK HTTP 202: {"status":202,"request":4}'

echo "webhook: all checks passed"
exit 0
