#!/bin/sh
# End to end through the queue: replyd process -> queue list/show/edit/
# approve/reject -> replyd send, against a real SMTP server and a real HTTP
# server on loopback (tests/servers/). Checks what the servers received.
# usage: test_delivery.sh REPLYD SOURCE_DIR
set -eu
R=$1
SRC=$2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
  echo "SKIP: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
  exit 77
fi
T=$(mktemp -d)
spid=""
hpid=""
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  [ -n "$hpid" ] && kill "$hpid" 2>/dev/null
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
wait_file() {
  i=0
  while [ ! -s "$1" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "server did not start ($1)"; exit 1; }
    sleep 0.1
  done
}

mkdir -p "$T/mail"
"$PY" "$SRC/tests/servers/smtp_server.py" --port-file "$T/smtp.port" --out "$T/mail" \
  --stats "$T/smtp.stats" --quiet &
spid=$!
"$PY" "$SRC/tests/servers/http_server.py" --port-file "$T/http.port" --log "$T/http.log" \
  --script-file "$T/cues" --timeout-sleep 3 2>/dev/null &
hpid=$!
echo "500" > "$T/cues"
wait_file "$T/smtp.port"
wait_file "$T/http.port"
SPORT=$(cat "$T/smtp.port")
HPORT=$(cat "$T/http.port")

cat > "$T/replyd.yaml" <<YAML
queue:
  path: queue.db
marketplaces:
  amazon.de: { sender: shop-de@seller.example }
  amazon.co.jp: { sender: shop-jp@seller.example }
delivery:
  sink: relay
  retry_base_seconds: 1
  retry_max_seconds: 2
  max_attempts: 3
  sinks:
    relay:
      plugin: smtp
      options: { url: "smtp://127.0.0.1:$SPORT", tls: none }
    hook:
      plugin: webhook
      options: { url: "http://127.0.0.1:$HPORT/hook", secret_env: REPLYD_TEST_HOOK_KEY, timeout_ms: 1500 }
    preview:
      plugin: file
      options: { path: preview.jsonl }
    closed:
      plugin: webhook
      options: { url: "http://127.0.0.1:9/hook", unsigned: "true", connect_timeout_ms: 500 }
YAML
export REPLYD_TEST_HOOK_KEY=test-key
export REPLYD_OPERATOR=tester

# Saturday night in Berlin: the team is away, so acknowledgements go out now
NOW=2026-11-28T23:30:00+01:00
cat > "$T/in.jsonl" <<'JSONL'
{"id":"de-1","marketplace":"amazon.de","from":"k7q2m9x4@marketplace.amazon.de","subject":"Wo bleibt meine Bestellung 302-1234567-1234567?","body":"Hallo, ich habe vor einer Woche bestellt und noch nichts bekommen. Wann kommt das Paket?","headers":{"Message-ID":"<de-1@relay.amazon.de>","References":"<earlier@relay.amazon.de>"}}
{"id":"ja-1","marketplace":"amazon.co.jp","from":"x3v8n1p5@marketplace.amazon.co.jp","subject":"注文した商品の配送について","body":"先週注文した商品がまだ届きません。いつ発送されますか。","headers":{"Message-ID":"<ja-1@relay.amazon.co.jp>"}}
{"id":"auto-1","marketplace":"amazon.de","from":"someone@example.org","subject":"Abwesenheitsnotiz: Ihre Nachricht","body":"Ich bin bis Montag nicht im Büro.","headers":{"Auto-Submitted":"auto-replied"}}
{"id":"bounce-1","marketplace":"amazon.de","from":"MAILER-DAEMON@mx.example.net","subject":"Undelivered Mail Returned to Sender","body":"This is the mail system. Your message could not be delivered."}
JSONL

cd "$T"
"$R" check -c replyd.yaml > check.out 2>&1
expect "check loads and checks every sink" sh -c 'grep -q "sink .relay. (plugin smtp)" check.out && grep -q "sink .hook. (plugin webhook), idempotent" check.out'
expect "check creates nothing (no file from the file sink)" test ! -e preview.jsonl
"$R" process -c replyd.yaml --now "$NOW" in.jsonl > process.out 2> process.err
expect "process stores 4 messages" test "$(grep -c '"status":"stored"' process.out)" = 4
expect "the auto-reply is suppressed" grep -q '"id":"auto-1".*"suppressed":"auto_submitted"' process.out
expect "the mailer-daemon is suppressed" grep -q '"id":"bounce-1".*"suppressed":"system_sender"' process.out
"$R" process -c replyd.yaml --now "$NOW" in.jsonl > again.out 2>/dev/null
expect "processing the same input again stores nothing" test "$(grep -c '"status":"duplicate"' again.out)" = 4
"$R" queue list -c replyd.yaml --suppressed > suppressed.txt
expect "queue list --suppressed names the reasons" sh -c 'grep -q auto_submitted suppressed.txt && grep -q system_sender suppressed.txt'
"$R" queue list -c replyd.yaml --json > list.json
expect "two acknowledgements approved automatically, two drafts wait" sh -c \
  'test "$(grep -c "\"template\":\"ack_overnight\",.*\"state\"\|\"state\":\"approved\".*ack_overnight" list.json)" -ge 2 &&
   test "$(grep -c "\"state\":\"pending_approval\"" list.json)" = 2'
expect "replies show their SLA deadline" grep -q '"deadline":"2026-11-29T22:30:00Z"' list.json

# --- SMTP: the acknowledgements go out once ---------------------------------
SEND_NOW=2026-11-28T23:31:00+01:00
"$R" send -c replyd.yaml --now "$SEND_NOW" > send1.out 2> send1.err || true
expect "send delivers the two acknowledgements" test "$(grep -c '^sent ' send1.out)" = 2
expect "the SMTP server received two messages" test "$(ls mail/*.eml 2>/dev/null | wc -l)" = 2
"$R" send -c replyd.yaml --now "$SEND_NOW" > send2.out 2>&1 || true
expect "a second send sends nothing" test "$(ls mail/*.eml | wc -l)" = 2
expect "no buyer address in send's output" sh -c '! grep -q "marketplace.amazon" send1.out send1.err send2.out'

cat > check_mail.py <<'PY'
import email, email.policy, glob, json, sqlite3, sys
db = sqlite3.connect("queue.db")
ok = True
def check(cond, what):
    global ok
    print(("ok - " if cond else "FAIL - ") + what)
    ok = ok and cond
mails = {}
for f in sorted(glob.glob("mail/*.eml")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    mails[m["Message-ID"]] = (m, raw, json.load(open(f[:-4] + ".json")))
for mid, (m, raw, env) in mails.items():
    row = db.execute("SELECT r.template, r.state, i.msg_id, i.in_message_id FROM replies r JOIN inbound i ON i.id = r.inbound_id WHERE r.message_id = ?", (mid,)).fetchone()
    check(row is not None and row[1] == "sent", "received %s is a sent reply in the queue" % mid)
    if row is None:
        continue
    check(b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "%s: CRLF line ends only" % row[2])
    check(m["In-Reply-To"] == row[3], "%s: In-Reply-To is the buyer's Message-ID" % row[2])
    check(m["Auto-Submitted"] == "auto-replied", "%s: an automatic reply says Auto-Submitted: auto-replied" % row[2])
    if row[2] == "ja-1":
        check(m["Subject"] == "Re: 注文した商品の配送について", "ja-1: the Japanese subject decodes to Re: + the buyer's subject")
        check(b"=?UTF-8?" in raw.split(b"\r\n\r\n")[0].upper() or b"=?utf-8?" in raw.split(b"\r\n\r\n")[0], "ja-1: the subject is RFC 2047-encoded")
        check(m["From"].addresses[0].addr_spec == "shop-jp@seller.example", "ja-1: From is the seller's amazon.co.jp address")
        check(m["To"].addresses[0].addr_spec == "x3v8n1p5@marketplace.amazon.co.jp", "ja-1: To is the buyer's relay alias")
        check(env["rcpt_tos"] == ["x3v8n1p5@marketplace.amazon.co.jp"], "ja-1: envelope recipient is the relay alias")
        body = m.get_body(("plain",)).get_content()
        check("受け付けました" in body or "受付" in body or "お問い合わせ" in body, "ja-1: the body is the Japanese acknowledgement")
    if row[2] == "de-1":
        check(m["References"] == "<earlier@relay.amazon.de> <de-1@relay.amazon.de>", "de-1: References carries the thread")
        check(m["Subject"].startswith("Re: Wo bleibt"), "de-1: Re: subject")
sys.exit(0 if ok else 1)
PY
if "$PY" check_mail.py; then ok "SMTP messages are threaded and encoded"; else bad "SMTP messages are threaded and encoded"; fi

# --- a human edits, approves and rejects ---------------------------------------
DE=$("$PY" -c "import sqlite3; print(sqlite3.connect('queue.db').execute(\"SELECT r.id FROM replies r JOIN inbound i ON i.id=r.inbound_id WHERE i.msg_id='de-1' AND r.state='pending_approval'\").fetchone()[0])")
JA=$("$PY" -c "import sqlite3; print(sqlite3.connect('queue.db').execute(\"SELECT r.id FROM replies r JOIN inbound i ON i.id=r.inbound_id WHERE i.msg_id='ja-1' AND r.state='pending_approval'\").fetchone()[0])")
"$R" queue show -c replyd.yaml "$DE" > show.txt
expect "queue show has the buyer's words and the deadline" sh -c 'grep -q "noch nichts bekommen" show.txt && grep -q "deadline:" show.txt'
printf 'Hallo,\n\nmehr unter https://example.com/tracking oder 0171 1234567.\n' > bad.txt
if "$R" queue edit -c replyd.yaml "$DE" --body-file bad.txt > edit1.out 2>&1; then bad "an edit with a link is flagged"; else ok "an edit with a link is flagged"; fi
expect "the finding is named" grep -q "link" edit1.out
if "$R" queue approve -c replyd.yaml "$DE" > approve1.out 2>&1; then bad "a reply with findings cannot be approved"; else ok "a reply with findings cannot be approved"; fi
printf 'Hallo,\n\nIhr Paket ist unterwegs und kommt am Montag an.\n\nViele Grüße\nExample Shop\n' > good.txt
expect "a clean edit is accepted" "$R" queue edit -c replyd.yaml "$DE" --body-file good.txt
expect "the edited reply is approved" "$R" queue approve -c replyd.yaml "$DE" --operator alice
expect "the Japanese draft is rejected" "$R" queue reject -c replyd.yaml "$JA" --reason "answered by phone"
"$R" send -c replyd.yaml --now 2026-11-29T09:00:00+01:00 > send3.out 2>&1 || true
expect "only the approved reply goes out" test "$(ls mail/*.eml | wc -l)" = 3
LAST=$(ls mail/*.eml | tail -1)
expect "the approved reply carries the edited text" "$PY" -c "
import email, email.policy, sys
m = email.message_from_bytes(open('$LAST','rb').read(), policy=email.policy.default)
sys.exit(0 if 'kommt am Montag' in m.get_body(('plain',)).get_content() and m['Auto-Submitted'] is None else 1)"
expect "the audit trail names the operators" "$PY" -c "
import sqlite3, sys
rows = sqlite3.connect('queue.db').execute('SELECT actor, action FROM audit').fetchall()
sys.exit(0 if ('alice','approved') in rows and ('tester','edited') in rows and ('tester','rejected') in rows else 1)"
expect "the answered message has its first response time" "$PY" -c "
import sqlite3, sys
r = sqlite3.connect('queue.db').execute(\"SELECT first_response_at FROM inbound WHERE msg_id='de-1'\").fetchone()
sys.exit(0 if r[0] is not None else 1)"

# --- webhook: retries on 5xx and timeouts with one idempotency key --------------
cat > in2.jsonl <<'JSONL'
{"id":"de-2","marketplace":"amazon.de","from":"p2r5t8w1@marketplace.amazon.de","subject":"Rechnung","body":"Können Sie mir bitte eine Rechnung für meine Bestellung schicken?","headers":{"Message-ID":"<de-2@relay.amazon.de>"}}
{"id":"de-3","marketplace":"amazon.de","from":"q9s4u7y2@marketplace.amazon.de","subject":"Rückgabe","body":"Ich möchte den Artikel zurückgeben, er passt nicht.","headers":{"Message-ID":"<de-3@relay.amazon.de>"}}
JSONL
"$R" process -c replyd.yaml --now "$NOW" in2.jsonl > /dev/null 2>&1
printf '500\ntimeout\n200\n400\n' > cues
"$R" send -c replyd.yaml --sink hook --now "$SEND_NOW" --drain --max-wait 30 > hook.out 2>&1 || true
expect "webhook: retried after a 500 and a timeout, then sent" sh -c 'grep -q "^retry " hook.out && grep -q "^sent " hook.out'
expect "webhook: a 400 is a permanent failure" grep -q "^failed " hook.out
expect "webhook: the same idempotency key on every attempt of a reply" "$PY" -c "
import json, sys, collections
# two replies: one gets 500 then 200, the other a timeout then 400
att = collections.defaultdict(list)
for l in open('http.log'):
    h = json.loads(l)['header']
    att[h.get('idempotency-key')].append(h.get('x-replyd-attempt'))
sys.exit(0 if len(att) == 2 and all(v == ['1', '2'] for v in att.values()) else 1)"
expect "webhook: the failed reply is marked failed" "$PY" -c "
import sqlite3, sys
n = sqlite3.connect('queue.db').execute(\"SELECT count(*) FROM replies WHERE state='failed' AND last_error LIKE '%400%'\").fetchone()[0]
sys.exit(0 if n == 1 else 1)"

# --- refused connections are retried later, not lost -------------------------------
cat > in3.jsonl <<'JSONL'
{"id":"de-4","marketplace":"amazon.de","from":"m1n2b3v4@marketplace.amazon.de","subject":"Frage","body":"Wo ist mein Paket? Ich warte schon lange.","headers":{"Message-ID":"<de-4@relay.amazon.de>"}}
JSONL
"$R" process -c replyd.yaml --now "$NOW" in3.jsonl > /dev/null 2>&1
"$R" send -c replyd.yaml --sink closed --now "$SEND_NOW" > closed.out 2>&1 || true
expect "a refused connection schedules a retry" grep -q "^retry " closed.out
expect "the reply waits, approved, with the error" "$PY" -c "
import sqlite3, sys
r = sqlite3.connect('queue.db').execute(\"SELECT r.state, r.last_error, r.next_attempt_at FROM replies r JOIN inbound i ON i.id=r.inbound_id WHERE i.msg_id='de-4' AND r.template='ack_overnight'\").fetchone()
sys.exit(0 if r[0] == 'approved' and r[1] and r[2] > 0 else 1)"

# --- the 24-hour figures and the audit report --------------------------------------
"$R" stats -c replyd.yaml --json --now 2026-11-30T12:00:00Z > stats.json
expect "stats: one message answered in time, four overdue, two suppressed" "$PY" -c "
import json, sys
s = json.load(open('stats.json'))
m = s['messages']
print(m, s['rate_in_time'])
sys.exit(0 if m['answered_in_time'] == 1 and m['overdue'] == 4 and m['suppressed'] == 2
         and abs(s['rate_in_time'] - 0.2) < 1e-9 else 1)"
"$R" stats -c replyd.yaml --prometheus --now 2026-11-30T12:00:00Z > stats.prom
expect "stats --prometheus exposes the rate" grep -q '^replyd_sla_rate_in_time 0.2' stats.prom
"$R" stats -c replyd.yaml --alerts --now 2026-11-29T20:00:00Z > alerts.out 2> alerts.err
expect "stats --alerts warns about messages near their deadline" grep -q "alert=deadline_near" alerts.err
"$R" stats -c replyd.yaml --alerts --now 2026-11-29T20:05:00Z > alerts2.out 2> alerts2.err
expect "... once" sh -c '! grep -q "alert=deadline_near" alerts2.err'
expect "alerts carry no buyer address" sh -c '! grep -q "@marketplace" alerts.err'
"$R" export -c replyd.yaml --format csv --now 2026-11-30T12:00:00Z --days 30 > report.csv
expect "export: a header and one row per message" test "$(wc -l < report.csv)" = 8
expect "export: no buyer address or text" sh -c '! grep -q "@marketplace\|noch nichts" report.csv'

echo "delivery: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
