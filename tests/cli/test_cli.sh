#!/bin/sh
# End-to-end tests of the replyd command line: exit codes, output shape and
# order, stdin, Maildir, configuration errors and lexicon overrides.
# Usage: test_cli.sh path/to/replyd SOURCE_DIR
set -u
REPLYD=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # check NAME COMMAND...: the command must succeed
  name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# json_check FILE PYTHON-EXPRESSION over `rows` (list of parsed lines)
json_check() {
  python3 - "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ok = eval(sys.argv[2])
if not ok:
    print("  rows:", json.dumps(rows, ensure_ascii=False)[:2000])
sys.exit(0 if ok else 1)
PY
}

# --- help and usage errors
"$REPLYD" --help >"$T/out" 2>&1; check "--help exits 0" test $? -eq 0
check "--help lists classify" grep -q classify "$T/out"
"$REPLYD" classify --help >"$T/out" 2>&1; check "classify --help exits 0" test $? -eq 0
check "classify --help documents exit status" grep -q "Exit status" "$T/out"
"$REPLYD" frobnicate >/dev/null 2>&1; check "unknown command exits 2" test $? -eq 2
"$REPLYD" classify --bogus >/dev/null 2>&1; check "unknown option exits 2" test $? -eq 2
"$REPLYD" classify --format xml /dev/null >/dev/null 2>&1; check "unknown format exits 2" test $? -eq 2

# --- the bundled samples: one line per message, in input order
"$REPLYD" classify "$SRC/examples/messages.jsonl" >"$T/ex.jsonl" 2>"$T/err"
check "examples exit 0" test $? -eq 0
check "examples: one line per message" test "$(wc -l <"$T/ex.jsonl")" -eq "$(grep -c . "$SRC/examples/messages.jsonl")"
python3 -c "
import json,sys
src=[json.loads(l)['id'] for l in open('$SRC/examples/messages.jsonl')]
out=[json.loads(l)['id'] for l in open('$T/ex.jsonl')]
sys.exit(0 if src==out else 1)"
check "examples: output keeps input order" test $? -eq 0
check "examples: every line has the documented fields" json_check "$T/ex.jsonl" \
  "all(set(r)=={'id','language','intent','confidence','high_risk','keywords'} and 0<=r['confidence']<=1 for r in rows)"
check "examples: six languages seen" json_check "$T/ex.jsonl" \
  "{r['language'] for r in rows} >= {'en','de','fr','it','es','ja'}"

"$REPLYD" classify "$SRC/examples" >"$T/dir.jsonl" 2>"$T/err"
check "examples dir exit 0" test $? -eq 0
check "examples dir reads the .eml files too" test "$(wc -l <"$T/dir.jsonl")" -gt "$(wc -l <"$T/ex.jsonl")"
# the samples' language, intent and risk, as labelled in examples/README.md
python3 -c "
import json,sys
got=[json.loads(l) for l in open('$T/dir.jsonl')]
got=['%s %s %s %s' % (r['id'], r['language'], r['intent'], 'high_risk' if r['high_risk'] else '-') for r in got]
want=open('$SRC/tests/cli/examples.expected').read().split('\n')[:-1]
bad=[(w,g) for w,g in zip(want,got) if w!=g]
for w,g in bad: print('  want', w, '\n  got ', g)
sys.exit(0 if not bad and len(got)==len(want) else 1)"
check "examples are classified as labelled" test $? -eq 0

# --- stdin, JSON Lines and e-mail
printf '{"id":"s1","body":"wo ist mein paket??"}\n' | "$REPLYD" classify >"$T/s.jsonl"
check "stdin jsonl exit 0" test $? -eq 0
check "short German message" json_check "$T/s.jsonl" "rows[0]['language']=='de' and rows[0]['id']=='s1'"
printf 'Subject: refund?\nMessage-ID: <m1@example.test>\n\nI returned the kettle two weeks ago, where is my refund?\n' |
  "$REPLYD" classify >"$T/m.jsonl"
check "stdin e-mail exit 0" test $? -eq 0
check "stdin e-mail classified" json_check "$T/m.jsonl" "rows[0]['id']=='m1@example.test' and rows[0]['language']=='en'"

# --- bad messages get an error line and the next one still flows
cat >"$T/mixed.jsonl" <<'J'
{"id":"a","body":"Please cancel my order, I ordered the wrong size by mistake."}
{"id":"b","body":
{"id":"c","subject":"no body"}

{"id":"d","body":"Merci beaucoup, tout est arrivé !"}
J
"$REPLYD" classify "$T/mixed.jsonl" "$T/does-not-exist.jsonl" >"$T/mx.jsonl" 2>"$T/err"
check "partial failure exits 1" test $? -eq 1
check "errors are reported in order" json_check "$T/mx.jsonl" \
  "[r['id'] for r in rows]==['a','b','c','d','$T/does-not-exist.jsonl'] and rows[1]['error'].startswith('$T/mixed.jsonl:2: invalid JSON') and 'body' in rows[2]['error'] and 'error' not in rows[3] and 'error' in rows[4]"

# --- Maildir: new/ then cur/
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
printf 'Subject: a\nMessage-ID: <new1@x>\n\nDove è il mio pacco?\n' >"$T/md/new/1.host"
printf 'Subject: b\nMessage-ID: <cur1@x>\n\n¿Dónde está mi pedido?\n' >"$T/md/cur/1.host:2,S"
"$REPLYD" classify "$T/md" >"$T/md.jsonl"
check "maildir exit 0" test $? -eq 0
check "maildir order and languages" json_check "$T/md.jsonl" \
  "[(r['id'],r['language']) for r in rows]==[('new1@x','it'),('cur1@x','es')]"

# --- configuration: errors are usage errors naming file:line:column
printf 'limits:\n  max_message_bytes: lots\n' >"$T/bad.yaml"
"$REPLYD" classify --config "$T/bad.yaml" "$T/mixed.jsonl" >/dev/null 2>"$T/err"
check "bad config exits 2" test $? -eq 2
check "bad config names file:line:column" grep -q "bad.yaml:2:22" "$T/err"
printf 'classifer:\n  min_score: 1\n' >"$T/typo.yaml"
"$REPLYD" classify --config "$T/typo.yaml" "$T/mixed.jsonl" >/dev/null 2>"$T/err"
check "misspelt key is an error" grep -q "unknown key: classifer" "$T/err"

# --- a seller's lexicon extends the built-in one
cat >"$T/extra.yaml" <<'Y'
language: en
intents:
  invoice_request:
    "proforma": 5
Y
printf 'classifier:\n  lexicons: [extra.yaml]\n' >"$T/cfg.yaml"
printf '{"id":"x","body":"Hello, could you send me a proforma for my accountant please?"}\n' >"$T/p.jsonl"
"$REPLYD" classify --config "$T/cfg.yaml" "$T/p.jsonl" >"$T/p.out"
check "extra lexicon exit 0" test $? -eq 0
check "extra lexicon decides" json_check "$T/p.out" "rows[0]['intent']=='invoice_request' and 'proforma' in rows[0]['keywords']"

# --- limits from configuration
printf 'limits:\n  max_message_bytes: 2048\n' >"$T/small.yaml"
python3 -c "import json; print(json.dumps({'id':'big','body':'x '*5000}))" >"$T/big.jsonl"
printf '{"id":"after","body":"Where is my order?"}\n' >>"$T/big.jsonl"
"$REPLYD" classify --config "$T/small.yaml" "$T/big.jsonl" >"$T/big.out"
check "over-limit message exits 1" test $? -eq 1
check "over-limit message named, next flows" json_check "$T/big.out" \
  "'max_message_bytes' in rows[0]['error'] and rows[1]['id']=='after' and 'error' not in rows[1]"

echo "$pass passed, $fail failed"
test "$fail" -eq 0
