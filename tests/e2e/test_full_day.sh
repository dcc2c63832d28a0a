#!/bin/sh
# A full day of replyd run, end to end, against real servers on loopback:
# a private Dovecot (tests/servers/dovecot.sh) holds the relay mailbox that
# replyd polls over IMAP, and tests/servers/smtp_server.py receives the
# replies. The clock is a file (replyd run --clock-file) and --now for the
# operator's commands, so the day is replayed in a few seconds:
#
#  a  Tue 1 Dec 2026 02:00 Berlin (team closed): buyers write in en, de, fr,
#     it, es and ja -> one acknowledgement each in their language over SMTP,
#     threaded, Auto-Submitted; drafts wait; the mails are \Seen afterwards
#  b  an out-of-office reply and a bounce in the same night -> no reply,
#     listed by queue list --suppressed
#  c  03:20: a batch of 32, the daemon killed with kill -9 while storing, and
#     restarted -> every message stored once, every acknowledgement received
#     once (or flagged for a human if the kill hit its SMTP dialogue), no mail
#     left unseen, and nothing \Seen that was not stored
#  d  09:00: an operator approves, edits and rejects drafts -> the next run
#     sends the two answers threaded (Re:, In-Reply-To, References)
#  g  the 24-hour figures at 12:00 (replyd stats --json), exact
#  e  Thu 3 Dec, a company holiday: out-of-office replies in es and ja
#  f  Fri 4 Dec 02:00: the daemon in the background; SIGHUP with a broken
#     configuration (logged, the old one keeps answering), SIGHUP with a good
#     one (reloaded: the new seller name signs), SIGTERM (exit 0, promptly);
#     replyd status --json, the figures over the week and the SLA alerts
#     (each raised once)
#
# usage: test_full_day.sh REPLYD SOURCE_DIR
# E2E_KEEP=1 keeps the temporary folders (queue, logs, received mail).
# Exit status: 0 all checks passed, 1 a check failed, 77 dovecot or
# python3-aiosmtpd is missing.
set -u
R=$1
SRC=$2
case $R in /*) ;; *) R=$(pwd)/$R ;; esac
case $SRC in /*) ;; *) SRC=$(pwd)/$SRC ;; esac
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DOVECOT=${DOVECOT:-/usr/sbin/dovecot}
[ -x "$DOVECOT" ] || DOVECOT=$(command -v dovecot 2>/dev/null || echo /usr/sbin/dovecot)
if [ ! -x "$DOVECOT" ]; then
  echo "SKIP: dovecot is not installed (apt-get install dovecot-imapd)"
  exit 77
fi
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
  echo "SKIP: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
  exit 77
fi
E2E=$SRC/tests/e2e
MSG=$E2E/messages
T=$(mktemp -d)
D=$(mktemp -d)
spid=""
dpid=""
cleanup() {
  [ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  sh "$SRC/tests/servers/dovecot.sh" stop "$D" >/dev/null 2>&1
  if [ -n "${E2E_KEEP:-}" ]; then
    echo "# kept: $T (queue, logs, received mail) and $D (Dovecot)"
  else
    rm -rf "$T" "$D"
  fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"; }
expect() { # expect DESCRIPTION COMMAND...
  d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
# pycheck NAME [ARG...] < python: the code imports e2e.py and prints one
# "ok - " / "FAIL - " line per check; a crash counts as a failure.
pycheck() {
  name=$1
  shift
  PYTHONPATH=$E2E PYTHONDONTWRITEBYTECODE=1 "$PY" - "$@" >"$T/pycheck.out" 2>&1
  rc=$?
  cat "$T/pycheck.out"
  n_ok=$(grep -c '^ok - ' "$T/pycheck.out")
  n_bad=$(grep -c '^FAIL - ' "$T/pycheck.out")
  checks=$((checks + n_ok + n_bad))
  fails=$((fails + n_bad))
  if [ $rc -ne 0 ] || [ $((n_ok + n_bad)) = 0 ]; then bad "$name: the check itself failed"; fi
}
# wait_for TENTHS COMMAND...: until COMMAND succeeds; 1 when it never does
wait_for() {
  n=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt "$n" ] && return 1
    sleep 0.1
  done
  return 0
}
set_clock() { printf '%s\n' "$1" >"$T/clock.new" && mv "$T/clock.new" "$T/clock"; }
mail_count() { # messages the SMTP server stored
  set -- "$T"/mail/*.eml
  if [ -e "$1" ]; then echo $#; else echo 0; fi
}
more_mail_than() { [ "$(mail_count)" -gt "$1" ]; }
stored_count() { # how many buyer messages the queue holds
  [ -f "$T/queue.db" ] || { echo 0; return; }
  "$PY" "$E2E/e2e.py" queue "$T/queue.db" "SELECT COUNT(*) AS n FROM inbound" 2>/dev/null |
    sed 's/[^0-9]//g'
}
alive() { kill -0 "$1" 2>/dev/null; }

# ---- servers -----------------------------------------------------------------
mkdir -p "$T/mail"
"$PY" "$SRC/tests/servers/smtp_server.py" --port-file "$T/smtp.port" --out "$T/mail" --quiet &
spid=$!
if ! sh "$SRC/tests/servers/dovecot.sh" start "$D" >"$T/dovecot.out" 2>&1; then
  cat "$T/dovecot.out"
  echo "FAIL - the test Dovecot did not start"
  exit 1
fi
wait_for 100 test -s "$T/smtp.port" || { echo "FAIL - the SMTP server did not start"; exit 1; }
SPORT=$(cat "$T/smtp.port")
IPORT=$(cat "$D/port")
export REPLYD_IMAP_PASSWORD=secret
export REPLYD_OPERATOR=tester
unset REPLYD_QUEUE

# The seller: a team in Berlin (the built-in hours, Mon-Fri 09:00-17:30 with a
# lunch break), one relay mailbox for six marketplaces, a company outing on
# Thursday 3 December.
write_config() { # write_config SELLER_NAME
  cat >"$T/replyd.yaml" <<YAML
seller:
  name: $1
holidays:
  - { name: Christmas, from: "12-24", to: "12-26" }
  - { name: Betriebsausflug, from: 2026-12-03, to: 2026-12-03 }
marketplaces:
  amazon.com:   { sender: us@nordlicht-home.example }
  amazon.de:    { sender: de@nordlicht-home.example }
  amazon.fr:    { sender: fr@nordlicht-home.example }
  amazon.it:    { sender: it@nordlicht-home.example }
  amazon.es:    { sender: es@nordlicht-home.example }
  amazon.co.jp: { sender: jp@nordlicht-home.example }
queue:
  path: queue.db
delivery:
  sink: relay
  retry_base_seconds: 1
  retry_max_seconds: 2
  sinks:
    relay:
      plugin: smtp
      options: { url: "smtp://127.0.0.1:$SPORT", tls: none, helo: replyd.test }
sources:
  relay-inbox:
    plugin: imap
    marketplace: amazon.de
    poll_seconds: 1
    options:
      url: "imap://127.0.0.1:$IPORT/INBOX"
      tls: none
      username: relay
      password_env: REPLYD_IMAP_PASSWORD
      after: seen
run:
  batch: 4
  alert_every_seconds: 300
log:
  format: logfmt
  level: info
YAML
}
write_config "Nordlicht Home"
CFG=$T/replyd.yaml
N=32 # messages in the batch of scenario c
cd "$T" || exit 1
"$R" check -c "$CFG" --quiet >check.out 2>&1
expect "replyd check accepts the test configuration (sources, run, log)" test $? = 0 ||
  cat check.out

# ---- a + b: the night ------------------------------------------------------------
echo "# a/b: Tuesday 02:00 in Berlin, team closed; six buyers, an out-of-office reply, a bounce"
set_clock 2026-12-01T02:00:00+01:00
"$PY" "$E2E/e2e.py" append "$IPORT" "$MSG"/n*.eml "$MSG"/m*.eml
pycheck "before the run" "$IPORT" <<'PY'
import sys, e2e
s = e2e.seen(sys.argv[1])
e2e.check(len(s) == 8 and not any(s.values()), "IMAP INBOX holds 8 unseen messages before the run")
PY
"$R" run --once -c "$CFG" --clock-file "$T/clock" >run-a.out 2>run-a.log
rc=$?
expect "run --once exits 0" test $rc = 0 || tail -5 run-a.log
if [ $rc != 0 ] && [ "$(mail_count)" = 0 ]; then
  echo "replyd run does not work here; the rest of the day cannot be played"
  echo "$checks checks, $fails failed"
  exit 1
fi
pycheck "night" "$R" "$CFG" "$IPORT" "$MSG" <<'PY'
import sys, os, e2e
R, CFG, IPORT, MSG = sys.argv[1:5]
check = e2e.check
buyers = {  # fixture: (language, marketplace sender, a phrase of ack_overnight)
    "n1-en-order-status.eml": ("en", "us@nordlicht-home.example", "This is an automatic reply to confirm"),
    "n2-de-invoice.eml": ("de", "de@nordlicht-home.example", "Mit dieser automatischen Antwort"),
    "n3-fr-return.eml": ("fr", "fr@nordlicht-home.example", "Ceci est une réponse automatique"),
    "n4-it-product-question.eml": ("it", "it@nordlicht-home.example", "Questa è una risposta automatica"),
    "n5-es-cancel.eml": ("es", "es@nordlicht-home.example", "Esta es una respuesta automática"),
    "n6-ja-invoice.eml": ("ja", "jp@nordlicht-home.example", "本メッセージは自動送信されています"),
}
mails = e2e.mails("mail")
check(len(mails) == 6, "the SMTP server received 6 acknowledgements (got %d)" % len(mails))
for f, (lang, sender, phrase) in buyers.items():
    p = os.path.join(MSG, f)
    mid = e2e.header(p, "Message-ID")
    alias = e2e.header(p, "Reply-To")
    subj = e2e.header(p, "Subject")
    got = [m for m in mails if m["in_reply_to"] == mid]
    if not check(len(got) == 1, "%s: exactly one reply, In-Reply-To the buyer's Message-ID" % lang):
        continue
    m = got[0]
    check(phrase in m["body"], "%s: the acknowledgement is written in %s" % (lang, lang))
    check("Nordlicht Home" in m["body"], "%s: signed by the seller" % lang)
    check(m["to"] == alias and m["rcpt_tos"] == [alias], "%s: To and envelope = the buyer's relay alias" % lang)
    check(m["from"] == sender, "%s: From = the marketplace's sender address" % lang)
    check(m["auto_submitted"] == "auto-replied", "%s: Auto-Submitted: auto-replied" % lang)
    check(m["references"].split()[-1:] == [mid], "%s: References ends with the buyer's Message-ID" % lang)
    check(m["subject"] == "Re: " + subj, "%s: Subject is Re: + the buyer's subject" % lang)
    check(m["crlf_only"], "%s: CRLF line ends only" % lang)
for f in ("m1-en-auto-reply.eml", "m2-mailer-daemon.eml"):
    p = os.path.join(MSG, f)
    mid, frm = e2e.header(p, "Message-ID"), e2e.header(p, "From")
    check(not [m for m in mails if m["in_reply_to"] == mid or (m["to"] and m["to"] in frm)],
          "%s: no reply to a machine" % f[:-4])
lst = e2e.cli_json(R, "queue", "list", "-c", CFG, "--json")
drafts = [r for r in lst if r["state"] == "pending_approval"]
check(len(lst) == 6 and len(drafts) == 6,
      "queue list: 6 drafts wait for approval, nothing else open (got %d open, %d drafts)" % (len(lst), len(drafts)))
check(sorted(r["language"] for r in drafts) == sorted(b[0] for b in buyers.values()),
      "the drafts are in the buyers' languages")
check(all(r["template"].startswith("answer_") and r["counts_as_response"] for r in drafts),
      "the drafts are answers that count as a response")
sup = e2e.cli_json(R, "queue", "list", "-c", CFG, "--suppressed", "--json")
reasons = {("<%s>" % r["message_id"]): r["suppressed"] for r in sup}
m1 = e2e.header(os.path.join(MSG, "m1-en-auto-reply.eml"), "Message-ID")
m2 = e2e.header(os.path.join(MSG, "m2-mailer-daemon.eml"), "Message-Id")
check(len(sup) == 2, "queue list --suppressed lists 2 messages (got %d)" % len(sup))
check(reasons.get(m1) == "auto_submitted", "the out-of-office reply is suppressed: auto_submitted")
check(reasons.get(m2) in ("null_return_path", "auto_submitted", "delivery_report", "system_sender"),
      "the bounce is suppressed (%s)" % reasons.get(m2))
s = e2e.seen(IPORT)
check(len(s) == 8 and all(s.values()), "all 8 messages are \\Seen in IMAP after they were stored")
PY
"$R" run --once -c "$CFG" --clock-file "$T/clock" >run-a2.out 2>run-a2.log
expect "a second run --once exits 0" test $? = 0
expect "... and stores and sends nothing new" sh -c \
  "test \"\$(ls mail | grep -c '\\.eml\$')\" = 6 && test \"\$(\"$PY\" \"$E2E/e2e.py\" queue queue.db 'SELECT COUNT(*) AS n FROM inbound')\" = '{\"n\": 8}'"

# ---- c: kill -9 in the middle of a batch ---------------------------------------
echo "# c: Tuesday 03:20, $N more messages; the daemon is killed with kill -9 while storing"
set_clock 2026-12-01T03:20:00+01:00
"$PY" "$E2E/e2e.py" batch "$IPORT" "$T/batch" $N 2026-12-01T02:40:00+01:00 >batch.ids
"$R" run -c "$CFG" --clock-file "$T/clock" >daemon-c1.out 2>daemon-c1.log &
dpid=$!
# kill it as soon as it has decided on the first message of the batch (logged
# before the batch's transaction commits)
i=0
until grep -q 'event=stored' daemon-c1.log 2>/dev/null || [ $i -gt 1000 ]; do
  i=$((i + 1))
  sleep 0.01
done
kill -9 "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
dpid=""
pycheck "after kill -9" "$IPORT" <<'PY'
import sys, e2e
s = e2e.seen(sys.argv[1])
stored = {"<%s>" % r["msg_id"] for r in e2e.queue_rows("queue.db", "SELECT msg_id FROM inbound")}
batch = [l.strip() for l in open("batch.ids") if l.strip()]
n_stored = len([b for b in batch if b in stored])
n_seen = len([b for b in batch if s.get(b)])
e2e.check(n_stored < len(batch), "the kill came in the middle: %d of %d stored, %d seen" % (n_stored, len(batch), n_seen))
e2e.check(all(b in stored for b in batch if s.get(b)), "every \\Seen message is in the queue (seen only after stored)")
PY
"$R" run -c "$CFG" --clock-file "$T/clock" >daemon-c2.out 2>daemon-c2.log &
dpid=$!
all_done() { # all stored, no acknowledgement approved or sending any more
  [ "$(stored_count)" = $((8 + N)) ] &&
    [ "$("$PY" "$E2E/e2e.py" queue queue.db "SELECT COUNT(*) AS n FROM replies WHERE state IN ('approved','sending')")" = '{"n": 0}' ]
}
wait_for 300 all_done
expect "the restarted daemon stores the rest and sends the acknowledgements" all_done
kill -TERM "$dpid" 2>/dev/null
t0=$(date +%s)
wait "$dpid"
rc=$?
t1=$(date +%s)
dpid=""
expect "SIGTERM: the daemon exits 0 (got $rc)" test $rc = 0
expect "SIGTERM: ... within 5 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 5
pycheck "crash" "$IPORT" $N <<'PY'
import sys, collections, e2e
N = int(sys.argv[2])
check = e2e.check
batch = [l.strip() for l in open("batch.ids") if l.strip()]
rows = e2e.queue_rows("queue.db", "SELECT msg_id, COUNT(*) AS n FROM inbound GROUP BY msg_id")
count = {"<%s>" % r["msg_id"]: r["n"] for r in rows}
check(all(count.get(b) == 1 for b in batch), "each of the %d messages is stored exactly once" % N)
check(sum(count.values()) == 8 + N, "%d messages in the queue in all (got %d)" % (8 + N, sum(count.values())))
mails = e2e.mails("mail")
ids = collections.Counter(m["message_id"] for m in mails)
check(all(n == 1 for n in ids.values()), "no Message-ID was received twice by the SMTP server")
acks = e2e.queue_rows("queue.db",
    "SELECT i.msg_id, r.state, r.attention, r.message_id FROM replies r JOIN inbound i ON i.id = r.inbound_id "
    "WHERE r.template = 'ack_overnight'")
ackstate = {"<%s>" % a["msg_id"]: a for a in acks}
interrupted = 0
for b in batch:
    got = [m for m in mails if m["in_reply_to"] == b]
    a = ackstate.get(b)
    if a is None:
        check(False, "%s: has an acknowledgement in the queue" % b)
    elif a["state"] == "sent":
        check(len(got) == 1 and got[0]["message_id"] == a["message_id"],
              "%s: acknowledgement sent and received exactly once" % b.split("@")[0][1:])
    else:
        interrupted += 1
        print("# %s: interrupted, %s by the SMTP server" % (b.split("@")[0][1:], "received" if got else "not received"))
        check(a["state"] == "failed" and a["attention"] == "interrupted" and len(got) <= 1,
              "%s: acknowledgement cut off by the kill is flagged for a human (%s/%s)" % (b.split("@")[0][1:], a["state"], a["attention"]))
print("# %d acknowledgement(s) interrupted by the kill" % interrupted)
check(interrupted <= 1, "at most the one reply in flight was cut off by the kill (%d)" % interrupted)
open("interrupted.n", "w").write(str(interrupted))
s = e2e.seen(sys.argv[1])
check(len(s) == 8 + N and all(s.values()), "nothing left unseen in IMAP (%d of %d seen)" % (sum(s.values()), len(s)))
PY

# ---- d: the morning ----------------------------------------------------------------
echo "# d: Tuesday 09:00, the operator approves, edits and rejects drafts"
set_clock 2026-12-01T09:00:00+01:00
NOW=2026-12-01T09:00:00+01:00
draft_of() { # draft_of FIXTURE: the id of the buyer message's pending draft
  mid=$(sed -n 's/^Message-ID: <\(.*\)>.*/\1/p' "$MSG/$1" | head -1)
  "$R" queue list -c "$CFG" --json --now "$NOW" | "$PY" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["message_id"] == sys.argv[1] and r["state"] == "pending_approval":
        print(r["id"])' "$mid"
}
DE=$(draft_of n2-de-invoice.eml)
FR=$(draft_of n3-fr-return.eml)
IT=$(draft_of n4-it-product-question.eml)
expect "the de, fr and it drafts are found ($DE $FR $IT)" test -n "$DE" -a -n "$FR" -a -n "$IT"
"$R" queue approve -c "$CFG" --now "$NOW" --operator anna "$DE" >approve.out 2>&1
expect "queue approve (de)" test $? = 0
cat >edited.txt <<'TXT'
Subject: Retour de votre coussin (commande 403-8816203-4471925)

Bonjour Camille,

merci pour votre message. Vous pouvez retourner le coussin sans frais dans les 30 jours : dans votre compte Amazon, ouvrez « Vos commandes », choisissez la commande puis « Retourner des articles ». Le remboursement est effectué dès réception du colis.

Bien cordialement,
Nordlicht Home
TXT
"$R" queue edit -c "$CFG" --now "$NOW" --operator anna "$FR" --body-file edited.txt >edit.out 2>&1
expect "queue edit (fr) with a body file" test $? = 0 || cat edit.out
"$R" queue approve -c "$CFG" --now "$NOW" --operator anna "$FR" >>approve.out 2>&1
expect "queue approve (fr, edited)" test $? = 0 || cat approve.out
"$R" queue reject -c "$CFG" --now "$NOW" --operator anna "$IT" --reason "answered on the phone" >reject.out 2>&1
expect "queue reject (it)" test $? = 0
set_clock 2026-12-01T09:05:00+01:00
"$R" run --once -c "$CFG" --clock-file "$T/clock" >run-d.out 2>run-d.log
expect "run --once at 09:05 exits 0" test $? = 0
pycheck "morning" "$MSG" "$DE" "$FR" "$IT" <<'PY'
import sys, os, e2e
MSG, DE, FR, IT = sys.argv[1:5]
check = e2e.check
mails = e2e.mails("mail")
acks_received = len([m for m in mails if m["auto_submitted"]])
check(len(mails) - acks_received == 2, "two answers went out in the morning (got %d)" % (len(mails) - acks_received))
state = {str(r["id"]): r for r in e2e.queue_rows("queue.db", "SELECT id, state, approved_by, message_id, body FROM replies WHERE id IN (?, ?, ?)", DE, FR, IT)}
for lang, rid, f in (("de", DE, "n2-de-invoice.eml"), ("fr", FR, "n3-fr-return.eml")):
    p = os.path.join(MSG, f)
    mid, subj, refs = e2e.header(p, "Message-ID"), e2e.header(p, "Subject"), e2e.header(p, "References")
    got = [m for m in mails if m["message_id"] == state[rid]["message_id"]]
    if not check(len(got) == 1 and state[rid]["state"] == "sent", "%s: the approved answer was sent once" % lang):
        continue
    m = got[0]
    check(m["subject"] == "Re: " + subj, "%s: Subject Re: + the buyer's subject" % lang)
    check(m["in_reply_to"] == mid, "%s: In-Reply-To the buyer's Message-ID" % lang)
    check(m["references"] == ((refs + " ") if refs else "") + mid, "%s: References carries the thread" % lang)
    check(m["auto_submitted"] == "", "%s: a human's answer is not marked Auto-Submitted" % lang)
    check(state[rid]["approved_by"] == "anna", "%s: approved by the operator" % lang)
    check(m["body"].replace("\r\n", "\n").strip() == state[rid]["body"].strip(), "%s: the text sent is the text approved" % lang)
fr = [m for m in mails if m["message_id"] == state[FR]["message_id"]]
check(fr and "sans frais dans les 30 jours" in fr[0]["body"], "fr: the edited text went out")
it = e2e.header(os.path.join(MSG, "n4-it-product-question.eml"), "Message-ID")
check(state[IT]["state"] == "rejected" and not [m for m in mails if m["in_reply_to"] == it and not m["auto_submitted"]],
      "it: the rejected draft was not sent")
PY

# ---- g (1): the figures at noon ------------------------------------------------------
echo "# g: the 24-hour figures on Tuesday at 12:00"
"$R" stats -c "$CFG" --now 2026-12-01T12:00:00+01:00 --days 1 --json >stats-noon.json 2>stats-noon.err
expect "stats --json exits 0" test $? = 0
pycheck "stats at noon" "$MSG" $N <<'PY'
import sys, os, json, e2e, email.utils
MSG, N = sys.argv[1], int(sys.argv[2])
check = e2e.check
s = json.load(open("stats-noon.json"))
interrupted = int(open("interrupted.n").read())
m = s["messages"]
check(m["received"] == 8 + N, "received: %d (got %s)" % (8 + N, m["received"]))
check(m["no_response_needed"] == 2 and m["suppressed"] == 2, "no response needed: the 2 machines, suppressed")
check(m["response_needed"] == 6 + N, "response needed: %d (got %s)" % (6 + N, m["response_needed"]))
check(m["answered_in_time"] == 2 and m["answered_late"] == 0, "answered in time: 2, late: 0")
check(m["open"] == 4 + N and m["overdue"] == 0 and m["late"] == 0, "open: %d, none overdue" % (4 + N))
check(s["rate_in_time"] == 1, "rate in time: 1 (got %s)" % s["rate_in_time"])
o = s["open_by_time_left"]
check(o["12h_to_24h"] == 4 + N and o["lt_4h"] == 0 and o["4h_to_12h"] == 0 and o["within_warn"] == 0,
      "all %d open messages have 12-24 h left" % (4 + N))
# the two answers went out at 09:05 Berlin (08:05Z); each message counts from
# when it was received (its Date header)
def rec(f):
    return email.utils.parsedate_to_datetime(e2e.header(os.path.join(MSG, f), "Date")).timestamp()
sent = 1796112300  # 2026-12-01T08:05:00Z
secs = sorted(int(sent - rec(f)) for f in ("n2-de-invoice.eml", "n3-fr-return.eml"))
fr = s["first_response_seconds"]
check(fr["count"] == 2 and fr["median"] == secs[0] and fr["p90"] == secs[1] and fr["sum"] == sum(secs),
      "first response: median %d s, p90 %d s (got %s/%s)" % (secs[0], secs[1], fr["median"], fr["p90"]))
a = s["approval"]
check(a["pending"] == 3 + N, "approval pending: %d (all drafts but approved, edited, rejected; got %s)" % (3 + N, a["pending"]))
check(a["oldest_age_seconds"] == 36000, "the oldest draft waits since 02:00: 10 h (got %s)" % a["oldest_age_seconds"])
check(a["median_age_seconds"] == 31200, "median age: the 03:20 drafts, 8 h 40 min (got %s)" % a["median_age_seconds"])
check(s["replies"]["failed"] == interrupted and s["replies"]["failed_attention"] == interrupted,
      "failed replies: the %d cut off by the kill, flagged" % interrupted)
PY

# ---- e: a holiday ------------------------------------------------------------------
echo "# e: Thursday 3 December, company outing: out-of-office replies"
set_clock 2026-12-03T10:05:00+01:00
"$PY" "$E2E/e2e.py" append "$IPORT" "$MSG"/h*.eml
n_before=$(mail_count)
"$R" run --once -c "$CFG" --clock-file "$T/clock" --log-format json >run-e.out 2>run-e.log
expect "run --once --log-format json exits 0" test $? = 0
expect "two replies went out ($n_before -> $(mail_count))" test "$(mail_count)" = $((n_before + 2))
pycheck "holiday" "$MSG" <<'PY'
import sys, os, json, e2e
MSG = sys.argv[1]
check = e2e.check
mails = e2e.mails("mail")
for f, lang, phrases in (("h1-es-order-status.eml", "es", ["nuestro equipo está ausente", "viernes, 4 de diciembre"]),
                         ("h2-ja-return.eml", "ja", ["休業期間", "12月4日"])):
    p = os.path.join(MSG, f)
    got = [m for m in mails if m["in_reply_to"] == e2e.header(p, "Message-ID")]
    if not check(len(got) == 1, "%s: one out-of-office reply" % lang):
        continue
    check(all(x in got[0]["body"] for x in phrases), "%s: in %s, back on Friday 4 December" % (lang, lang))
    check(got[0]["auto_submitted"] == "auto-replied" and got[0]["to"] == e2e.header(p, "Reply-To"),
          "%s: automatic, to the relay alias" % lang)
rows = e2e.queue_rows("queue.db", "SELECT r.template, r.state FROM replies r JOIN inbound i ON i.id = r.inbound_id WHERE i.received_at >= 1796256000  -- since 2026-12-03T00:00Z")
check(sorted((r["template"], r["state"]) for r in rows) ==
      [("answer_order_status", "pending_approval"), ("answer_return_request", "pending_approval"),
       ("holiday_ooo", "sent"), ("holiday_ooo", "sent")], "holiday_ooo sent, the answers drafted")
lines = [l for l in open("run-e.log", encoding="utf-8") if l.strip()]
good = 0
for l in lines:
    try:
        good += isinstance(json.loads(l), dict)
    except ValueError:
        pass
check(lines and good == len(lines), "--log-format json: every log line is a JSON object (%d of %d)" % (good, len(lines)))
PY

# ---- f: signals --------------------------------------------------------------------
echo "# f: Friday 02:00, the daemon in the background: SIGHUP, SIGTERM"
set_clock 2026-12-04T02:00:00+01:00
"$R" run -c "$CFG" --clock-file "$T/clock" >daemon-f.out 2>daemon-f.log &
dpid=$!
wait_for 100 grep -q 'event=started' daemon-f.log
cp "$CFG" good.yaml
printf 'seller:\n  name: [unclosed\nqueue: {\n' >"$CFG"
kill -HUP "$dpid"
wait_for 50 grep -q 'level=error event=reload_failed' daemon-f.log
expect "SIGHUP with a broken configuration is logged as an error" grep -q 'level=error event=reload_failed' daemon-f.log ||
  tail -5 daemon-f.log
sleep 0.3
expect "... and the daemon keeps running" alive "$dpid"
n_before=$(mail_count)
"$PY" "$E2E/e2e.py" append "$IPORT" "$MSG/s1-en-product-question.eml"
wait_for 100 more_mail_than "$n_before"
pycheck "old configuration" "$MSG" <<'PY'
import sys, os, e2e
p = os.path.join(sys.argv[1], "s1-en-product-question.eml")
got = [m for m in e2e.mails("mail") if m["in_reply_to"] == e2e.header(p, "Message-ID")]
e2e.check(len(got) == 1 and "This is an automatic reply to confirm" in got[0]["body"],
          "a new message is still acknowledged with the old configuration")
e2e.check(len(got) == 1 and got[0]["body"].rstrip().endswith("Nordlicht Home"), "... signed with the old seller name")
PY
write_config "Nordlicht Wohnen"
kill -HUP "$dpid"
wait_for 50 grep -q 'level=info event=reloaded' daemon-f.log
expect "SIGHUP with a good configuration is logged as reloaded" grep -q 'level=info event=reloaded' daemon-f.log
expect "... and the daemon keeps running" alive "$dpid"
n_before=$(mail_count)
"$PY" "$E2E/e2e.py" append "$IPORT" "$MSG/s2-de-order-status.eml"
wait_for 100 more_mail_than "$n_before"
pycheck "new configuration" "$MSG" <<'PY'
import sys, os, e2e
p = os.path.join(sys.argv[1], "s2-de-order-status.eml")
got = [m for m in e2e.mails("mail") if m["in_reply_to"] == e2e.header(p, "Message-ID")]
e2e.check(len(got) == 1 and "Mit dieser automatischen Antwort" in got[0]["body"], "the next message is acknowledged (de)")
e2e.check(len(got) == 1 and got[0]["body"].rstrip().endswith("Nordlicht Wohnen"),
          "... signed with the seller name of the reloaded configuration")
PY
kill -TERM "$dpid" 2>/dev/null
t0=$(date +%s)
wait "$dpid"
rc=$?
t1=$(date +%s)
dpid=""
expect "SIGTERM: exit status 0 (got $rc)" test $rc = 0
expect "SIGTERM: within 5 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 5

# ---- g (2): status and the week ------------------------------------------------------
echo "# g: replyd status and the figures on Friday 03:00"
"$R" status -c "$CFG" --json --now 2026-12-04T03:00:00+01:00 >status.json 2>status.err
expect "status --json exits 1: overdue messages need a look" test $? = 1 || cat status.err
"$R" stats -c "$CFG" --now 2026-12-04T03:00:00+01:00 --days 7 --json >stats-week.json 2>stats-week.err
expect "stats --days 7 --json exits 0" test $? = 0
pycheck "status" $N <<'PY'
import sys, json, e2e
check = e2e.check
N = int(sys.argv[1])
interrupted = int(open("interrupted.n").read())
st = json.load(open("status.json"))
print("# status: " + json.dumps(st)[:600])
src = st.get("sources")
if isinstance(src, dict):
    src = [dict(v, name=k) for k, v in src.items()]
one = [x for x in (src or []) if x.get("name") == "relay-inbox"]
check(len(one) == 1, "status names the source relay-inbox")
if one:
    x = one[0]
    check(bool(x.get("last_poll")), "status: the source's last poll is known (%s)" % x.get("last_poll"))
    check(x.get("ok") is True and x.get("last_error") is None and x.get("failures") == 0, "status: the source has no error")
    check(x.get("stored") == 12 + N, "status: the source stored %d messages (got %s)" % (12 + N, x.get("stored")))
check(st.get("backlog") == {"open": 8 + N, "overdue": 4 + N}, "status: backlog %d open, %d overdue" % (8 + N, 4 + N))
check(st.get("approvals", {}).get("waiting") == 7 + N, "status: %d approvals waiting" % (7 + N))
check(st.get("replies", {}).get("failed") == interrupted, "status: %d failed replies" % interrupted)
s = json.load(open("stats-week.json"))
m = s["messages"]
# 12 + N messages: 8 + N on Tuesday (2 machines), 2 on the holiday, 2 on
# Friday night. Answered: the de and fr drafts on Tuesday. Tuesday's others
# are past their deadline; the holiday's 2 have 4-12 h left, Friday's 2 more.
check(m["received"] == 12 + N and m["response_needed"] == 10 + N, "week: %d received, %d needing a response" % (12 + N, 10 + N))
check(m["answered_in_time"] == 2 and m["overdue"] == 4 + N and m["open"] == 8 + N and m["late"] == 4 + N,
      "week: 2 answered in time, %d open of which %d overdue (got %s)" % (8 + N, 4 + N, json.dumps(m)))
check(abs(s["rate_in_time"] - 2 / (6 + N)) < 1e-5, "week: rate in time 2/%d (got %s)" % (6 + N, s["rate_in_time"]))
# SLA alerts: Thursday's run found Tuesday's open messages overdue (each
# raised once) and the rate low; Friday's daemon only the rate, for its day
al = {}
for r in e2e.queue_rows("queue.db", "SELECT kind, COUNT(*) AS n FROM alerts GROUP BY kind"):
    al[r["kind"]] = r["n"]
check(al == {"deadline_missed": 4 + N, "rate_low": 2}, "alerts raised once each: %d deadline_missed, 2 rate_low (got %s)" % (4 + N, al))
lines = [json.loads(l) for l in open("run-e.log", encoding="utf-8") if l.strip()]
check(len([l for l in lines if l.get("event") == "sla_alert"]) == 5 + N, "Thursday's run logged %d SLA alerts" % (5 + N))
check(len([l for l in open("daemon-f.log") if "event=sla_alert" in l and "rate_low" in l]) == 1,
      "Friday's daemon logged the day's rate_low alert")
o = s["open_by_time_left"]
check(o["overdue"] == 4 + N and o["4h_to_12h"] == 2 and o["12h_to_24h"] == 2, "week: open by time left %d / 2 / 2" % (4 + N))
PY

# ---- logs ----------------------------------------------------------------------------
cat run-a.log run-a2.log daemon-c1.log daemon-c2.log run-d.log run-e.log daemon-f.log >all.log 2>/dev/null
expect "no buyer address or name in any log" sh -c \
  '! grep -Eq "@marketplace\.amazon|Jason|Thomas W|Camille|Giulia|Lucía|Megan|山田|佐藤|kunde\.alt" all.log'
expect "logfmt lines are ts=... level=... (run --once at night)" sh -c \
  'test -s run-a.log && ! grep -Ev "^ts=[^ ]+ level=(error|warn|info|debug) " run-a.log | grep -q .'
expect "the night's run logged each stored message" test "$(grep -c 'event=stored' run-a.log)" = 8
expect "no sanitizer report in any output (with -DRP_SANITIZE=ON)" sh -c \
  '! cat ./*.log ./*.err ./*.out 2>/dev/null | grep -Eq "runtime error:|Sanitizer"'

echo "$checks checks, $fails failed"
[ $fails = 0 ] || exit 1
exit 0
