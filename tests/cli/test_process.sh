#!/bin/sh
# End-to-end tests of `replyd process --dry-run` and `replyd check`: decisions
# on the bundled samples (overnight, holiday, high-risk, thanks, loop
# protection for bounces, auto-replies, notifications and repeats), the clock
# override, text output, compliance and missing variables sending replies to
# approval, a failing Lua rule, and check's errors and example cases.
# Usage: test_process.sh path/to/replyd SOURCE_DIR
set -u
REPLYD=$1
SRC=$2
T=$(mktemp -d)
trap "rm -rf \"\$T\"" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "kept $T"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # check NAME COMMAND...: the command must succeed
  name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# json_check FILE PYTHON-EXPRESSION over `rows` (parsed lines) and `by` (rows by id)
json_check() {
  python3 - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
by = {r["id"]: r for r in rows}
def acts(r): return [x["action"] for x in r["replies"]]
def tpls(r): return [x["template"] for x in r["replies"]]
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print("  rows:", json.dumps(rows, ensure_ascii=False)[:3000])
sys.exit(0 if ok else 1)
PY
}

# --- usage
"$REPLYD" process --format text --queue "$T/unused.db" examples >/dev/null 2>"$T/err"
check "process --format text without --dry-run exits 2" test $? -eq 2
check "process --format text without --dry-run says why" grep -q "is for --dry-run" "$T/err"
check "... and creates no queue" test ! -e "$T/unused.db"
"$REPLYD" process --dry-run --now yesterday /dev/null >/dev/null 2>"$T/err"
check "bad --now exits 2" test $? -eq 2
"$REPLYD" process --help >"$T/out"; check "process --help exits 0" test $? -eq 0
check "process --help shows the decision format" grep -q counts_as_response "$T/out"
"$REPLYD" check --help >"$T/out"; check "check --help exits 0" test $? -eq 0

# --- the bundled samples with the built-in configuration
"$REPLYD" process --dry-run "$SRC/examples" >"$T/ex.jsonl" 2>"$T/err"
check "samples exit 0" test $? -eq 0
n_in=$("$REPLYD" classify "$SRC/examples" | wc -l)
check "one decision per sample" test "$(wc -l <"$T/ex.jsonl")" -eq "$n_in"
check "decisions have the documented fields" json_check "$T/ex.jsonl" \
  "all({'id','language','intent','high_risk','replies','reasons'} <= set(r) and
       all({'rule','template','action','language','subject','body','counts_as_response','compliance'} <= set(x)
           for x in r['replies']) for r in rows)"
check "every sample gets a decision: replies or no_reply" json_check "$T/ex.jsonl" \
  "all(r['replies'] or r['no_reply'] for r in rows)"
check "no rendered reply has a hole or a placeholder" json_check "$T/ex.jsonl" \
  "all('{{' not in (x['body'] or '') and '}}' not in (x['body'] or '') for r in rows for x in r['replies'])"
check "replies are written in the buyer's language" json_check "$T/ex.jsonl" \
  "all(x['language']==r['language'] for r in rows for x in r['replies'] if x['body'])"
check "replies in all six languages" json_check "$T/ex.jsonl" \
  "{x['language'] for r in rows for x in r['replies']} == {'en','de','fr','it','es','ja'}"
# overnight: Monday 23:31 in Berlin, a German return question
check "overnight: acknowledgement sent now, answer drafted" json_check "$T/ex.jsonl" \
  "acts(by['ex-de-01'])==['auto_send','approve'] and tpls(by['ex-de-01'])[0]=='ack_overnight'
   and 'after_hours' in by['ex-de-01']['tags']"
check "overnight acknowledgement is not counted as a response" json_check "$T/ex.jsonl" \
  "by['ex-de-01']['replies'][0]['counts_as_response'] is False and by['ex-de-01']['replies'][1]['counts_as_response'] is True"
check "German acknowledgement names the opening time the German way" json_check "$T/ex.jsonl" \
  "'Dienstag, 17. November' in by['ex-de-01']['replies'][0]['body']"
check "Japanese acknowledgement is in Japanese with a Japanese date" json_check "$T/ex.jsonl" \
  "any(x['template']=='ack_overnight' and '月' in x['body'] and '日(' in x['body']
       for r in rows if r['language']=='ja' for x in r['replies'])"
# holiday: Christmas Eve (built-in yearly holiday)
check "holiday: out-of-office sent, answer drafted" json_check "$T/ex.jsonl" \
  "tpls(by['hol-de-01'])[0]=='holiday_ooo' and acts(by['hol-de-01'])==['auto_send','approve']
   and 'holiday' in by['hol-de-01']['tags']"
check "holiday reply names the first day back" json_check "$T/ex.jsonl" \
  "'28. Dezember' in by['hol-de-01']['replies'][0]['body']"
check "holiday reply in Japanese" json_check "$T/ex.jsonl" \
  "by['hol-ja-01']['replies'][0]['template']=='holiday_ooo' and by['hol-ja-01']['replies'][0]['language']=='ja'"
check "New Year holiday (wraps the year)" json_check "$T/ex.jsonl" \
  "tpls(by['hol-it-01'])[0]=='holiday_ooo'"
# high risk: never auto-sent, high priority
check "high-risk samples are never sent automatically" json_check "$T/ex.jsonl" \
  "all(x['action']=='approve' for r in rows if r['high_risk'] for x in r['replies'])"
check "high-risk samples are high priority" json_check "$T/ex.jsonl" \
  "all(r['priority'] in ('high','urgent') for r in rows if r['high_risk'])"
check "buyer name from the relay subject" json_check "$T/ex.jsonl" \
  "'Katrin B.' in by['hol-de-01']['replies'][0]['body']"
check "no compliance findings in the starter templates" json_check "$T/ex.jsonl" \
  "all(not x['compliance'] for r in rows for x in r['replies'])"

# loop protection: machines get no reply at all; one buyer gets one automatic reply per template
BOUNCE=20261119081452.4QB7k21Zs5z3wxy@mx.example-isp.test
OOO=20261118140211.m4t8k2q6zr@marketplace.amazon.com
NOTE=0102019a4d2e6f10-notification-302-7719305-1148826@eu-west-1.amazonses.com
check "every decision has the suppressed fields" json_check "$T/ex.jsonl" \
  "all('suppressed' in r and 'suppressed_detail' in r for r in rows)"
check "bounce, out-of-office and notification: no reply, no draft, the reason named" json_check "$T/ex.jsonl" \
  "[by[i]['suppressed'] for i in ('$BOUNCE','$OOO','$NOTE')]==['null_return_path','auto_submitted','notification_sender']
   and all(by[i]['replies']==[] and by[i]['no_reply'] and not by[i]['approval_needed']
           and any(x.startswith('loop protection: ') for x in by[i]['reasons']) for i in ('$BOUNCE','$OOO','$NOTE'))"
check "no buyer message is suppressed" json_check "$T/ex.jsonl" \
  "[r['id'] for r in rows if r['suppressed']]==['$NOTE','$BOUNCE','$OOO']"
check "suppression details never name the sender" json_check "$T/ex.jsonl" \
  "all('@' not in r['suppressed_detail'].replace('*@','') for r in rows if r['suppressed'])"
check "the buyer's second message on Christmas Eve: holiday reply not sent again, the draft stays" json_check "$T/ex.jsonl" \
  "acts(by['hol-de-01'])==['auto_send','approve'] and acts(by['loop-de-01'])==['approve']
   and by['loop-de-01']['suppressed'] is None
   and any('loop protection' in x and 'holiday_ooo' in x for x in by['loop-de-01']['reasons'])"
"$REPLYD" process --dry-run "$SRC/examples/loop.jsonl" >"$T/loop1.jsonl"
check "a dry run remembers nothing from an earlier run" json_check "$T/loop1.jsonl" \
  "acts(rows[0])==['auto_send','approve']"
"$REPLYD" process --dry-run --format text "$SRC/examples/mail/en-mailer-daemon-bounce.eml" >"$T/bounce.txt"
check "text view says why a bounce gets no reply" \
  grep -q "NO REPLY: loop protection (null_return_path): Return-Path is empty" "$T/bounce.txt"

# --- the clock: the same message inside and outside business hours
printf '%s\n' '{"id":"q","marketplace":"amazon.de","subject":"Rechnung","body":"Hallo, bitte senden Sie mir eine Rechnung mit ausgewiesener MwSt. für meine Bestellung.","received_at":"2026-11-24T10:00:00+01:00"}' >"$T/q.jsonl"
"$REPLYD" process --dry-run "$T/q.jsonl" >"$T/q1"
check "inside hours: draft only" json_check "$T/q1" \
  "rows[0]['intent']=='invoice_request' and acts(rows[0])==['approve'] and rows[0]['rule']=='draft-for-approval'"
"$REPLYD" process --dry-run --now 2026-11-28T03:00:00+01:00 "$T/q.jsonl" >"$T/q2"
check "--now Saturday 03:00 Berlin: acknowledgement + draft" json_check "$T/q2" \
  "acts(rows[0])==['auto_send','approve'] and rows[0]['now']=='2026-11-28T02:00:00Z'"
check "the opening time is Monday 09:00 (buyer's clock)" json_check "$T/q2" \
  "'Montag, 30. November, 09:00' in rows[0]['replies'][0]['body']"
check "reply_by is 24 hours after receipt" json_check "$T/q1" \
  "rows[0]['reply_by']=='2026-11-25T09:00:00Z'"
check "with --now the message counts as received then" json_check "$T/q2" \
  "rows[0]['reply_by']=='2026-11-29T02:00:00Z'"
"$REPLYD" process --dry-run --format text --now 2026-11-28T03:00:00+01:00 "$T/q.jsonl" >"$T/q.txt"
check "text view shows what is sent now" grep -q "SEND NOW: ack_overnight" "$T/q.txt"
check "text view shows the drafts" grep -q "DRAFT FOR APPROVAL: answer_invoice_request" "$T/q.txt"
check "text view shows the reasons" grep -q "why: outside business hours" "$T/q.txt"

# --- a seller's rules and templates: compliance and missing variables hold replies back
mkdir -p "$T/shop/tpl" "$T/shop/rules"
cat >"$T/shop/tpl/promo.yaml" <<'Y'
id: promo
languages:
  en:
    subject: Thanks
    body: |
      Thanks! Visit www.example-shop.com for a 10% coupon.
Y
cat >"$T/shop/tpl/needs_order.yaml" <<'Y'
id: needs_order
languages:
  en:
    subject: "Order {{order_id}}"
    body: |
      About order {{order_id}}: it is on its way.
Y
cat >"$T/shop/rules/shop.yaml" <<'Y'
rules:
  - name: promo-everyone
    priority: 200
    when: {keywords: [coupon]}
    then:
      replies: [{template: promo, action: auto_send}]
  - name: needs-order
    priority: 199
    when: {keywords: [parcel]}
    then:
      replies: [{template: needs_order, action: auto_send}]
Y
cat >"$T/shop/rules/loop.lua" <<'L'
rule {
  name = "spins",
  priority = 300,
  on_message = function(msg, ctx)
    if msg.body:find("spin") then while true do end end
    return nil
  end,
}
L
printf 'rules:\n  paths: [rules]\ntemplates:\n  dirs: [tpl]\n' >"$T/shop/replyd.yaml"
cat >"$T/shop/in.jsonl" <<'J'
{"id":"c1","marketplace":"amazon.com","subject":"coupon?","body":"Do you have a coupon for my next order?","received_at":"2026-11-24T15:00:00Z"}
{"id":"p1","marketplace":"amazon.com","subject":"parcel","body":"Where is my parcel? It has not arrived yet.","received_at":"2026-11-24T15:00:00Z"}
{"id":"s1","marketplace":"amazon.com","subject":"spin","body":"Please spin the parcel question around. Where is my order?","received_at":"2026-11-24T15:00:00Z"}
J
"$REPLYD" process --dry-run --config "$T/shop/replyd.yaml" "$T/shop/in.jsonl" >"$T/shop.out" 2>"$T/shop.err"
check "seller rules exit 0" test $? -eq 0
check "compliance finding: auto_send becomes approve, with the finding" json_check "$T/shop.out" \
  "acts(by['c1'])==['approve'] and {f['check'] for f in by['c1']['replies'][0]['compliance']} >= {'link','marketing'}
   and any('compliance' in x for x in by['c1']['reasons'])"
check "missing variable: approval, no text with a hole" json_check "$T/shop.out" \
  "acts(by['p1'])==['approve'] and by['p1']['replies'][0]['body'] is None
   and 'order_id' in by['p1']['replies'][0]['error']"
check "a looping Lua rule is reported by name; the others still run" json_check "$T/shop.out" \
  "any(\"rule 'spins'\" in x and 'failed' in x for x in by['s1']['reasons'])
   and by['s1']['rule']=='needs-order' and by['s1']['approval_needed'] is True
   and all(a=='approve' for a in acts(by['s1']))"
check "the loop did not affect the next message" json_check "$T/shop.out" \
  "not any('failed' in x for x in by['c1']['reasons'])"

# --- replyd check
"$REPLYD" check >"$T/check.out" 2>&1
check "check of the built-in configuration exits 0" test $? -eq 0
check "check runs the default rules' example cases" grep -q "ok: test 'thanks needs no reply'" "$T/check.out"
check "check reports 0 problems" grep -q "0 problems" "$T/check.out"
"$REPLYD" check --config "$T/shop/replyd.yaml" >"$T/check2.out" 2>&1
check "check finds the shop's compliance problem and missing languages (exit 1)" test $? -eq 1
check "check names the compliance check" grep -q "template 'promo' \[en\].*compliance link" "$T/check2.out"
check "check wants every marketplace language" grep -q "template 'promo'.*has no de text" "$T/check2.out"
printf 'rules:\n  - name: x\n    when: {intent: where}\n    then: {no_reply: true}\n' >"$T/shop/rules/bad.yaml"
"$REPLYD" check --config "$T/shop/replyd.yaml" >"$T/check3.out" 2>&1
check "a broken rule file exits 2" test $? -eq 2
check "and is named with file:line:column" grep -q "bad.yaml:3:.*unknown intent 'where'" "$T/check3.out"
rm "$T/shop/rules/bad.yaml"
printf 'rule { name = "syn", on_message = function(msg, ctx) return { end }\n' >"$T/shop/rules/syn.lua"
"$REPLYD" check --config "$T/shop/replyd.yaml" >"$T/check4.out" 2>&1
rc=$?
check "a Lua syntax error exits 2" test $rc -eq 2
check "and is named with file:line" grep -q "syn.lua:1:" "$T/check4.out"
rm "$T/shop/rules/syn.lua"
cat >"$T/shop/rules/cases.yaml" <<'Y'
tests:
  - name: coupon question goes to the promo rule
    now: "2026-11-24T16:00:00+01:00"
    message: {marketplace: amazon.com, body: "Any coupon?"}
    expect: {rule: promo-everyone, actions: [auto_send]}
Y
"$REPLYD" check --config "$T/shop/replyd.yaml" >"$T/check5.out" 2>&1
check "a failing example case exits 1" test $? -eq 1
check "and says what was expected and what happened" grep -q "expected actions \[auto_send\], got \[approve\]" "$T/check5.out"
# the built-in rules' cases assume the built-in calendar: a seller without
# holidays gets a note for the Christmas case, not a failure
mkdir -p "$T/noholidays"
printf 'holidays: []\n' >"$T/noholidays/replyd.yaml"
"$REPLYD" check --config "$T/noholidays/replyd.yaml" >"$T/check6.out" 2>&1
check "a seller's own calendar: the built-in Christmas case is a note (exit 0)" test $? -eq 0
check "and the note says why" grep -q "^note: with this configuration's business hours and holidays, test 'Japanese return request on Christmas Day" "$T/check6.out"
check "and it is not also reported as passing" sh -c "! grep -q \"ok: test 'Japanese return request on Christmas Day\" '$T/check6.out'"

# example cases see the message as process does: the order id from the subject
mkdir -p "$T/oid/rules"
cat >"$T/oid/rules/oid.yaml" <<'Y'
rules:
  - name: with-order
    priority: 200
    when: {has_order_id: true}
    then: {replies: ["answer_{intent}"], tags: [has_order]}
tests:
  - name: the order id in the relay subject counts
    now: "2026-11-24T10:00:00+01:00"
    message:
      marketplace: amazon.de
      subject: "Produktanfrage von Amazon-Kunde Eva S. (Bestellung: 302-1234567-7654321)"
      body: Hallo, wann wird meine Bestellung versandt?
    expect: {rule: with-order}
Y
printf 'rules:\n  paths: [rules/]\n' >"$T/oid/replyd.yaml"
"$REPLYD" check --config "$T/oid/replyd.yaml" >"$T/oid.out" 2>&1
check "check finds the order id of a sample message" test $? -eq 0
check "rule origins have no doubled slash" sh -c "! grep -q 'rules//' '$T/oid.out'"

# the annotated example configuration and its example rules (YAML and Lua) pass their own cases
"$REPLYD" check --config "$SRC/examples/replyd.yaml" >"$T/check6.out" 2>&1
check "examples/replyd.yaml passes replyd check" test $? -eq 0
check "examples/replyd.yaml loads Lua rules" grep -q "([1-9][0-9]* Lua)" "$T/check6.out"

echo "$pass passed, $fail failed"
test "$fail" -eq 0
