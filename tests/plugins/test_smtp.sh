#!/bin/sh
# test_smtp.sh — the smtp sink plugin against tests/servers/smtp_server.py on
# 127.0.0.1: exact message bytes (German and Japanese fixtures), RFC 3834
# headers, connection reuse, result mapping (4xx, 5xx, dropped and stalled
# connections, refused connections), AUTH with password_env/password_file,
# STARTTLS and implicit TLS, option checking.
#
# usage: sh test_smtp.sh SINK_DRIVER PLUGIN_DIR SOURCE_DIR
# exit 0 pass, 1 fail, 77 skip (python3-aiosmtpd missing)
set -eu

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/smtp.so
FIX=$SRC/tests/plugins/fixtures
SERVER=$SRC/tests/servers/smtp_server.py

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    echo "SKIP: $PY cannot import aiosmtpd (Debian package python3-aiosmtpd)"
    exit 77
fi
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }
start_tmp

# start_server NAME [server options...]; sets PORT
start_server() {
    n=$1; shift
    mkdir -p "$T/$n"
    "$PY" "$SERVER" --port-file "$T/$n/port" --out "$T/$n/out" --stats "$T/$n/stats.json" \
        --quiet "$@" >"$T/$n/log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$T/$n/port" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            cat "$T/$n/log"
            echo "FAIL: server $n did not start"
            exit 1
        fi
        sleep 0.1
    done
    PORT=$(cat "$T/$n/port")
}

# stat NAME KEY: a counter from the server's stats
stat() {
    "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$T/$1/stats.json" "$2"
}

# send OUTFILE FIXTURE COUNT [key=value...]: the driver's output into OUTFILE
send() {
    o=$1; shift
    f=$1; shift
    c=$1; shift
    "$DRIVER" "$PLUGIN" "$f" "$c" "$@" >"$o" 2>"$o.err" || true
    sanitizer_clean "$o.err" # sanitizer builds: any report fails the run
}

# line_is FILE TEXT [N]: line N (default 1) of FILE is TEXT
line_is() {
    got=$(sed -n "${3:-1}p" "$1")
    [ "$got" = "$2" ] && return 0
    echo "  got:  $got"
    echo "  want: $2"
    return 1
}

# mail_check EML JSON: the message decodes back to the fixture's fields, and
# its form is right (CRLF only, header lines <= 78, any line <= 998)
cat >"$T/mailcheck.py" <<'EOF'
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
fx = json.load(open(sys.argv[2], encoding="utf-8"))
errs = []
if b"\n" in raw.replace(b"\r\n", b"") or b"\r" in raw.replace(b"\r\n", b""):
    errs.append("bare CR or LF")
if not raw.endswith(b"\r\n"):
    errs.append("does not end with CRLF")
head, _, body = raw.partition(b"\r\n\r\n")
for l in head.split(b"\r\n"):
    if len(l) > 78:
        errs.append("header line over 78: %r" % l[:40])
for l in raw.split(b"\r\n"):
    if len(l) > 998:
        errs.append("line over 998")
try:
    raw.decode("ascii")
except UnicodeDecodeError:
    errs.append("8-bit bytes in the message")
m = email.message_from_bytes(raw, policy=email.policy.default)
def want(name, got, exp):
    if got != exp:
        errs.append("%s: got %r want %r" % (name, got, exp))
want("subject", str(m["subject"]), fx["subject"])
want("from name", m["from"].addresses[0].display_name, fx.get("from_name") or "")
want("from addr", m["from"].addresses[0].addr_spec, fx["from"])
want("to", str(m["to"]), fx["to"])
want("message-id", str(m["message-id"]), fx["message_id"])
want("in-reply-to", m["in-reply-to"] and str(m["in-reply-to"]), fx.get("in_reply_to"))
want("references", m["references"] and " ".join(str(m["references"]).split()),
     fx.get("references"))
want("content-type", m.get_content_type(), "text/plain")
want("charset", m.get_content_charset(), "utf-8")
body = m.get_content().replace("\r\n", "\n")
exp = fx["body"] if fx["body"].endswith("\n") else fx["body"] + "\n"
want("body", body, exp)
want("reply id", str(m["x-replyd-reply-id"]), fx["reply_id"])
for e in errs:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
mail_check() { "$PY" "$T/mailcheck.py" "$1" "$2"; }

# --- (a) German reply: exact bytes, decodes back -----------------------------
start_server plain
P=$PORT
send "$T/de.out" "$FIX/smtp_de.json" 2 "url=smtp://127.0.0.1:$P" tls=none
check "de: both sends OK with the server's reply, address cut out" \
    line_is "$T/de.out" "OK 250 2.0.0 Ok: queued as 000001 <address>"
check "de: second send OK" line_is "$T/de.out" "OK 250 2.0.0 Ok: queued as 000002 <address>" 2
check "de: message bytes equal smtp_de.eml" cmp "$T/plain/out/000001.eml" "$FIX/smtp_de.eml"
check "de: the same reply gives the same bytes" \
    cmp "$T/plain/out/000001.eml" "$T/plain/out/000002.eml"
check "de: decodes back to the fixture, CRLF, line limits" \
    mail_check "$T/plain/out/000001.eml" "$FIX/smtp_de.json"
check "de: envelope" equals "$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["mail_from"], m["rcpt_tos"])' "$T/plain/out/000001.json")" \
    "versand@shop-mueller.example ['x7k2m9q4w1@marketplace.amazon.de']"
check "de: no RFC 3834 headers when automatic is 0" lacks "$T/plain/out/000001.eml" "Auto-Submitted"

# --- (b) Japanese reply ------------------------------------------------------
send "$T/ja.out" "$FIX/smtp_ja.json" 1 "url=smtp://127.0.0.1:$P" tls=none
check "ja: OK" line_is "$T/ja.out" "OK 250 2.0.0 Ok: queued as 000003 <address>"
check "ja: message bytes equal smtp_ja.eml" cmp "$T/plain/out/000003.eml" "$FIX/smtp_ja.eml"
check "ja: subject, name and body decode back exactly" \
    mail_check "$T/plain/out/000003.eml" "$FIX/smtp_ja.json"

# --- (c) automatic 1 vs 0 ----------------------------------------------------
send "$T/auto.out" "$FIX/smtp_auto.json" 1 "url=smtp://127.0.0.1:$P" tls=none
send "$T/manual.out" "$FIX/smtp_manual.json" 1 "url=smtp://127.0.0.1:$P" tls=none
check "automatic: both OK" contains "$T/auto.out" "OK 250 2.0.0 Ok: queued as 000004"
check "manual: OK" contains "$T/manual.out" "OK 250 2.0.0 Ok: queued as 000005"
hdrs() { # the RFC 3834 and reply-id header lines, joined with '|'
    sed -n '/^\r$/q;p' "$1" |
        grep -E '^(Auto-Submitted|X-Auto-Response-Suppress|X-Replyd-Reply-Id):' |
        tr -d '\r' | tr '\n' '|'
}
check "automatic=1: Auto-Submitted and X-Auto-Response-Suppress, once each" \
    equals "$(hdrs "$T/plain/out/000004.eml")" \
    "Auto-Submitted: auto-replied|X-Auto-Response-Suppress: All|X-Replyd-Reply-Id: 4001|"
check "automatic=0: neither" equals "$(hdrs "$T/plain/out/000005.eml")" "X-Replyd-Reply-Id: 4002|"
check "no other headers (no X-Mailer, no User-Agent)" equals \
    "$(sed -n '/^\r$/q;p' "$T/plain/out/000004.eml" | sed -n 's/^\([A-Za-z-]*\):.*/\1/p' | tr '\n' ' ')" \
    "From To Subject Date Message-ID Auto-Submitted X-Auto-Response-Suppress X-Replyd-Reply-Id MIME-Version Content-Type Content-Transfer-Encoding "

# --- (k) replies that can never go out by e-mail ------------------------------
send "$T/alert.out" "$FIX/smtp_alert.json" 1 "url=smtp://127.0.0.1:$P" tls=none
check "kind alert: PERMANENT" contains "$T/alert.out" "PERMANENT smtp: kind 'alert'"
send "$T/noto.out" "$FIX/smtp_noto.json" 1 "url=smtp://127.0.0.1:$P" tls=none
check "no recipient: PERMANENT" line_is "$T/noto.out" "PERMANENT smtp: the reply has no recipient"
check "nothing of them reached the server" equals "$(stat plain messages)" 5

# --- (l) a 2000-character line and a long ASCII subject -----------------------
send "$T/long.out" "$FIX/smtp_long.json" 1 "url=smtp://127.0.0.1:$P" tls=none
check "long: OK" contains "$T/long.out" "OK 250 2.0.0 Ok: queued as 000006"
check "long: quoted-printable for a line over 998 octets" \
    contains "$T/plain/out/000006.eml" "Content-Transfer-Encoding: quoted-printable"
check "long: decodes back, every line within limits" \
    mail_check "$T/plain/out/000006.eml" "$FIX/smtp_long.json"
check "long: ASCII subject folded, not encoded" \
    equals "$(grep -c '=?' "$T/plain/out/000006.eml" || true)" 0

# --- (d) 20 sends, one connection ----------------------------------------------
start_server reuse
send "$T/reuse.out" "$FIX/smtp_en.json" 20 "url=smtp://127.0.0.1:$PORT" tls=none
check "reuse: 20 OK" equals "$(grep -c '^OK 250 ' "$T/reuse.out")" 20
check "reuse: 20 messages stored" equals "$(stat reuse messages)" 20
check "reuse: one connection" equals "$(stat reuse connections)" 1
check "reuse: every message on connection 1, distinct Message-IDs" equals \
    "$("$PY" -c '
import glob, json, sys
d = sys.argv[1]
conns = {json.load(open(f))["connection"] for f in glob.glob(d + "/*.json")}
ids = {[l for l in open(f, "rb").read().split(b"\r\n") if l.startswith(b"Message-ID:")][0]
       for f in glob.glob(d + "/*.eml")}
print(sorted(conns), len(ids))' "$T/reuse/out")" "[1] 20"

# a server that serves two messages per connection, then answers 421 to MAIL
# and hangs up: nothing was sent yet, so the plugin reconnects at once
start_server busy --max-per-connection 2
send "$T/busy.out" "$FIX/smtp_en.json" 5 "url=smtp://127.0.0.1:$PORT" tls=none
check "421 on a kept connection: reconnect, all 5 OK" equals "$(grep -c '^OK 250 ' "$T/busy.out")" 5
check "421: three connections, two refusals" equals \
    "$(stat busy connections) $(stat busy closed_busy) $(stat busy messages)" "3 2 5"

# --- (e) RCPT refused -----------------------------------------------------------
start_server r450 --fail-rcpt 450:1
send "$T/r450.out" "$FIX/smtp_en.json" 2 "url=smtp://127.0.0.1:$PORT" tls=none
check "450 on RCPT: RETRY with the reply, address cut out" \
    line_is "$T/r450.out" "RETRY RCPT: 450 4.2.0 <address>: Recipient address rejected"
check "450: next send OK on a fresh connection" line_is "$T/r450.out" \
    "OK 250 2.0.0 Ok: queued as 000001 <address>" 2
check "450: two connections" equals "$(stat r450 connections)" 2
start_server r550 --fail-rcpt 550:1
send "$T/r550.out" "$FIX/smtp_en.json" 2 "url=smtp://127.0.0.1:$PORT" tls=none
check "550 on RCPT: PERMANENT" \
    line_is "$T/r550.out" "PERMANENT RCPT: 550 5.1.1 <address>: Recipient address rejected"
check "550: next send OK" line_is "$T/r550.out" "OK 250 2.0.0 Ok: queued as 000001 <address>" 2
check "no address in any detail" lacks "$T/r550.out" "@"

# --- (f) connection lost after the data ------------------------------------------
start_server drop --drop-after-data 1
send "$T/drop.out" "$FIX/smtp_en.json" 2 "url=smtp://127.0.0.1:$PORT" tls=none
check "dropped after data: UNKNOWN" contains "$T/drop.out" "UNKNOWN end of data: "
check "dropped: next send OK" line_is "$T/drop.out" "OK 250 2.0.0 Ok: queued as 000001 <address>" 2
check "dropped: one dropped, one stored, two connections" equals \
    "$(stat drop dropped) $(stat drop messages) $(stat drop connections)" "1 1 2"
start_server stall --stall-after-data 1
send "$T/stall.out" "$FIX/smtp_en.json" 2 "url=smtp://127.0.0.1:$PORT" tls=none timeout_ms=1500
check "no answer after data within timeout_ms: UNKNOWN" \
    contains "$T/stall.out" "UNKNOWN end of data: "
check "stalled: next send OK" line_is "$T/stall.out" "OK 250 2.0.0 Ok: queued as 000001 <address>" 2

# --- (g) nobody listening --------------------------------------------------------
CLOSED=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
send "$T/refused.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$CLOSED" tls=none
check "connection refused: RETRY" contains "$T/refused.out" "RETRY connect: "

# --- (h) AUTH ---------------------------------------------------------------------
start_server auth --auth replyd:s3cr3t-pw
AP=$PORT
RP_SMTP_TEST_PW=s3cr3t-pw send "$T/auth.out" "$FIX/smtp_en.json" 2 "url=smtp://127.0.0.1:$AP" \
    tls=none username=replyd password_env=RP_SMTP_TEST_PW
check "auth with password_env: OK" equals "$(grep -c '^OK 250 ' "$T/auth.out")" 2
check "auth: one login for two messages" equals "$(stat auth auth_ok)" 1
RP_SMTP_TEST_PW=wrong send "$T/authbad.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$AP" \
    tls=none username=replyd password_env=RP_SMTP_TEST_PW
check "wrong password: PERMANENT (535)" contains "$T/authbad.out" "PERMANENT AUTH: 535 "
send "$T/noauth.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$AP" tls=none
check "no credentials where AUTH is required: PERMANENT (530)" \
    contains "$T/noauth.out" "PERMANENT MAIL: 530 "
send "$T/noenv.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$AP" tls=none \
    username=replyd password_env=RP_SMTP_TEST_UNSET_VAR
check "password_env unset: open error" contains "$T/noenv.out" \
    "OPEN-ERROR smtp: password_env: environment variable 'RP_SMTP_TEST_UNSET_VAR' is not set"
printf 's3cr3t-pw\n' >"$T/pw.txt"
chmod 0644 "$T/pw.txt"
(cd "$T" && send "$T/pw644.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$AP" tls=none \
    username=replyd password_file=pw.txt)
check "password_file readable by others: refused at open" \
    contains "$T/pw644.out" "OPEN-ERROR smtp: password_file ./pw.txt is accessible to group or others (mode 644)"
chmod 0600 "$T/pw.txt"
(cd "$T" && send "$T/pw600.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$AP" tls=none \
    username=replyd password_file=pw.txt)
check "password_file 0600 (relative to base_dir, newline trimmed): OK" \
    contains "$T/pw600.out" "OK 250 2.0.0 Ok: queued as"

# --- (j) options ------------------------------------------------------------------
send "$T/o1.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$P" tls=none bogus=1
check "unknown option: open error naming it" contains "$T/o1.out" "OPEN-ERROR smtp: unknown option 'bogus'"
send "$T/o2.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$P" username=u password=p
check "plain password option refused" contains "$T/o2.out" \
    "OPEN-ERROR smtp: option 'password' is not accepted; use password_env or password_file"
send "$T/o3.out" "$FIX/smtp_en.json" 1 tls=none
check "url required" contains "$T/o3.out" "OPEN-ERROR smtp: option 'url' is required"
send "$T/o4.out" "$FIX/smtp_en.json" 1 "url=http://127.0.0.1:$P"
check "other schemes refused" contains "$T/o4.out" "OPEN-ERROR smtp: option 'url' must start with smtp:// or smtps://"
send "$T/o5.out" "$FIX/smtp_en.json" 1 "url=smtps://127.0.0.1:$P" tls=starttls
check "smtps with starttls refused" contains "$T/o5.out" "OPEN-ERROR smtp: an smtps:// url always uses TLS"
send "$T/o6.out" "$FIX/smtp_en.json" 1 "url=smtp://u:p@127.0.0.1:$P"
check "credentials in the url refused" contains "$T/o6.out" "OPEN-ERROR smtp: option 'url' must not hold credentials"
send "$T/o7.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$P" timeout_ms=soon
check "bad timeout refused" contains "$T/o7.out" "OPEN-ERROR smtp: option 'timeout_ms' must be a number"
send "$T/o8.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$P" tls=none \
    envelope_from=bounces@example-shop.example helo=mx.example-shop.example
check "envelope_from and helo: OK" contains "$T/o8.out" "OK 250 "
check "envelope_from used for MAIL FROM, helo for EHLO" equals "$("$PY" -c '
import glob, json, sys
m = json.load(open(sorted(glob.glob(sys.argv[1] + "/*.json"))[-1]))
print(m["mail_from"], m["helo"])' "$T/plain/out")" \
    "bounces@example-shop.example mx.example-shop.example"

# --- (i) TLS --------------------------------------------------------------------
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
        >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; bad "openssl could not make a certificate"; }
    start_server tls --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --auth replyd:s3cr3t-pw
    RP_SMTP_TEST_PW=s3cr3t-pw send "$T/tls.out" "$FIX/smtp_en.json" 2 \
        "url=smtp://127.0.0.1:$PORT" "ca_file=$T/cert.pem" username=replyd \
        password_env=RP_SMTP_TEST_PW
    check "STARTTLS (the default for smtp://) with AUTH: OK" \
        equals "$(grep -c '^OK 250 ' "$T/tls.out")" 2
    check "STARTTLS: one connection, one handshake" \
        equals "$(stat tls connections) $(stat tls starttls)" "1 1"
    send "$T/tlsca.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$PORT" tls=starttls
    check "STARTTLS with an unknown CA: RETRY" contains "$T/tlsca.out" "RETRY STARTTLS: "
    send "$T/tlsnone.out" "$FIX/smtp_en.json" 1 "url=smtp://127.0.0.1:$PORT" tls=none
    check "tls=none where the server requires STARTTLS: PERMANENT (530)" \
        contains "$T/tlsnone.out" "PERMANENT MAIL: 530 "
    start_server smtps --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --smtps
    send "$T/smtps.out" "$FIX/smtp_en.json" 2 "url=smtps://127.0.0.1:$PORT" "ca_file=$T/cert.pem"
    check "implicit TLS (smtps://): OK, one connection" \
        equals "$(grep -c '^OK 250 ' "$T/smtps.out") $(stat smtps connections)" "2 1"
else
    echo "skip - TLS checks: openssl is not installed"
fi

finish smtp
