#!/bin/sh
# test_file.sh — the file sink plugin: JSON lines with every rp_outgoing
# field, appending, standard output, write failures, option checking.
#
# usage: sh test_file.sh SINK_DRIVER PLUGIN_DIR SOURCE_DIR
set -eu

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/file.so
MSG=$SRC/tests/plugins/fixtures/file_message.json
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }
start_tmp

send() { # send OUTFILE COUNT [key=value...]
    o=$1; shift
    c=$1; shift
    "$DRIVER" "$PLUGIN" "$MSG" "$c" "$@" >"$o" 2>"$o.err" || true
    sanitizer_clean "$o.err" # sanitizer builds: any report fails the run
}

# every line: a JSON object with exactly the rp_outgoing fields, numbered 1..N
cat >"$T/lines.py" <<'EOF'
import json, sys
fx = json.load(open(sys.argv[2], encoding="utf-8"))
first = int(sys.argv[3])
names = ["reply_id", "idempotency_key", "message_id", "from", "from_name", "to", "subject",
         "body", "in_reply_to", "references", "language", "marketplace", "order_id",
         "template_id", "inbound_id", "kind", "date", "attempt", "automatic"]
errs = []
lines = [l for l in open(sys.argv[1], "rb").read().split(b"\n")[:-1] if l.startswith(b"{")]
for i, raw in enumerate(lines):
    n = first + i
    rec = json.loads(raw.decode("utf-8"))
    if sorted(rec) != sorted(names):
        errs.append("line %d: fields %s" % (n, sorted(rec)))
    for k in names:
        want = fx.get(k)
        if isinstance(want, str):
            want = want.replace("{n}", str(n))
        if k == "automatic":
            want = bool(want)
        if rec.get(k) != want or type(rec.get(k)) != type(want):
            errs.append("line %d: %s = %r, want %r" % (n, k, rec.get(k), want))
for e in errs[:10]:
    print("  " + e)
print(len(lines))
sys.exit(1 if errs else 0)
EOF
lines_ok() { # lines_ok FILE FIRST COUNT
    got=$("$PY" "$T/lines.py" "$1" "$MSG" "$2") || { echo "$got"; return 1; }
    [ "$got" = "$3" ] || { echo "  $got lines, want $3"; return 1; }
}

send "$T/a.out" 3 "path=$T/out.jsonl"
check "three sends OK" equals "$(grep -c '^OK appended [0-9]* bytes to '"$T"'/out.jsonl$' "$T/a.out")" 3
check "three JSON lines with every field, nulls for missing strings" lines_ok "$T/out.jsonl" 1 3
check "new file is private (0600)" equals "$(stat -c %a "$T/out.jsonl")" 600
check "one line per send, nothing else" equals "$(wc -l <"$T/out.jsonl" | tr -d ' ')" 3
send "$T/b.out" 2 "path=$T/out.jsonl" fsync=true format=json
tail -n 2 "$T/out.jsonl" >"$T/tail.jsonl"
check "second instance appends its two lines, with fsync" lines_ok "$T/tail.jsonl" 1 2
check "appended lines 4 and 5 restart at 1 (a new instance)" equals \
    "$("$PY" -c 'import json,sys; print([json.loads(l)["reply_id"] for l in open(sys.argv[1])])' "$T/out.jsonl")" \
    "['71', '72', '73', '71', '72']"
check "UTF-8 kept as is, not escaped" contains "$T/out.jsonl" "ご注文ありがとうございます。"

send "$T/stdout.out" 2 path=-
check "path '-': the lines go to standard output" lines_ok "$T/stdout.out" 1 2
check "path '-': OK" equals "$(grep -c '^OK appended [0-9]* bytes to standard output$' "$T/stdout.out")" 2

(cd "$T" && send "$T/rel.out" 1 path=rel.jsonl)
check "relative path resolved against base_dir" lines_ok "$T/rel.jsonl" 1 1

send "$T/full.out" 1 path=/dev/full
check "write failure: RETRY" contains "$T/full.out" "RETRY file: write to /dev/full failed: "

send "$T/o1.out" 1 "path=$T/x.jsonl" bogus=1
check "unknown option: open error naming it" contains "$T/o1.out" "OPEN-ERROR file: unknown option 'bogus'"
send "$T/o2.out" 1 format=json
check "path required" contains "$T/o2.out" "OPEN-ERROR file: option 'path' is required"
send "$T/o3.out" 1 "path=$T/x.jsonl" format=eml
check "only json" contains "$T/o3.out" "OPEN-ERROR file: option 'format': 'eml' is not supported"
send "$T/o4.out" 1 "path=$T/x.jsonl" fsync=yes
check "fsync true|false" contains "$T/o4.out" "OPEN-ERROR file: option 'fsync' must be true or false"
send "$T/o5.out" 1 "path=$T"
check "a directory is refused" contains "$T/o5.out" "OPEN-ERROR file: "
send "$T/o6.out" 1 "path=$T/no/such/dir/x.jsonl"
check "missing directory: open error" contains "$T/o6.out" "OPEN-ERROR file: cannot open $T/no/such/dir/x.jsonl: No such file or directory"

finish file
