#!/bin/sh
# test_dropdir.sh — the dropdir source plugin: files in name order, one item
# per non-blank line with its exact bytes, continuation across polls and
# across restarts in the middle of a file (state), a changed file starting
# over, hidden and *.tmp files ignored, done/ only when every line is
# acknowledged, unreadable lines listed in done/NAME.errors, over-long lines,
# delete mode, files that vanish, a folder that disappears, option checking
# and check-only opens.
#
# usage: sh test_dropdir.sh SOURCE_DRIVER PLUGIN_DIR SOURCE_DIR
set -eu
LC_ALL=C
export LC_ALL

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/dropdir.so
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built"; exit 1; }
command -v mkfifo >/dev/null 2>&1 || { echo "SKIP: mkfifo is missing"; exit 77; }
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: python3 is missing"; exit 77; }
start_tmp

refs() { grep '^item' "$1" | cut -d' ' -f2 | tr '\n' ' '; }
# lines FILE FIRST LAST [PREFIX]: JSON lines {"id":"PREFIXn","body":"message n"}
lines() {
    "$PY" -c 'import sys
f, a, b, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(f, "a") as o:
    for n in range(a, b + 1):
        o.write("{\"id\":\"%s%d\",\"body\":\"message %d\"}\n" % (p, n, n))' "$1" "$2" "$3" "${4:-}"
}
# seq_refs NAME FIRST LAST: "NAME:FIRST … NAME:LAST "
seq_refs() { "$PY" -c 'import sys
print(" ".join("%s:%d" % (sys.argv[1], n) for n in range(int(sys.argv[2]), int(sys.argv[3]) + 1)) + " ", end="")' "$@"; }
# wait_for FILE TEXT: until FILE holds TEXT (at most 20 s)
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 200 ] || return 1
        sleep 0.1
    done
}

# --- order, exact bytes, what is ignored ------------------------------------------
D=$T/d1
mkdir -p "$D"
printf '{"body":"b1"}\n\n   \n{"body":"b4 \\u00e4 ä"}\r\n{"body":"b5"}' >"$D/b.jsonl"
printf '{"body":"a1"}\n' >"$D/a.jsonl"
printf '{"body":"c1"}\n' >"$D/c.ndjson"
printf '{"body":"hidden"}\n' >"$D/.d.jsonl"
printf '{"body":"tmp"}\n' >"$D/e.jsonl.tmp"
printf '{"body":"txt"}\n' >"$D/f.txt"
touch -d '2024-05-01 12:00:00 UTC' "$D/a.jsonl"
mkdir "$T/o1"
run "$T/r1" --no-ack --polls 1 --out "$T/o1" "path=$D"
check "no-ack: OK" equals "$(rc_of "$T/r1")" 0
check "no-ack: one file per poll, blank lines skipped but counted" equals "$(refs "$T/r1")" "a.jsonl:1 "
check "no-ack: JSON items (format 1), received = mtime" contains "$T/r1" \
    "item a.jsonl:1 format=1 len=13 received=1714564800"
check "no-ack: done/ created, empty" equals "$(lsdir "$D/done")" ""
check "no-ack: the files stay" equals "$(lsdir "$D")" \
    ".d.jsonl a.jsonl b.jsonl c.ndjson done e.jsonl.tmp f.txt "
check "no-ack: nothing moved, nothing saved" lacks "$T/r1" "state "
mkdir "$T/o2"
run "$T/r2" --out "$T/o2" --state-file "$T/s2" "path=$D"
check "all: OK" equals "$(rc_of "$T/r2")" 0
check "all: files by name, then lines in order" equals "$(refs "$T/r2")" \
    "a.jsonl:1 b.jsonl:1 b.jsonl:4 b.jsonl:5 c.ndjson:1 "
printf '{"body":"b4 \\u00e4 ä"}\r' >"$T/want4"
printf '{"body":"b5"}' >"$T/want5"
check "exact bytes: the line without its LF" cmp -s "$T/o2/0003" "$T/want4"
check "exact bytes: a last line without a line end" cmp -s "$T/o2/0004" "$T/want5"
check "all: done/ holds the three files" equals "$(lsdir "$D/done")" "a.jsonl b.jsonl c.ndjson "
check "all: hidden, *.tmp and other names stay" equals "$(lsdir "$D")" ".d.jsonl done e.jsonl.tmp f.txt "
check "all: state cleared after the last file" equals "$(cat "$T/s2")" ""
check "all: the moved file is unchanged" cmp -s "$D/done/a.jsonl" /dev/stdin <<'EOF'
{"body":"a1"}
EOF
run "$T/r3" "path=$D" pattern=*.txt
check "pattern: only the names it matches" equals "$(refs "$T/r3")" "f.txt:1 "

# --- continuation across polls, restarts in the middle of a file ------------------
D=$T/d2
mkdir -p "$D"
lines "$D/big.jsonl" 1 250
ino=$(stat -c %i "$D/big.jsonl")
run "$T/r4" --max 100 --polls 1 --state-file "$T/s4" "path=$D"
check "poll of 100: lines 1..100" equals "$(refs "$T/r4")" "$(seq_refs big.jsonl 1 100)"
check "poll of 100: more waiting" contains "$T/r4" "poll OK more=1"
check "poll of 100: state saved after the acknowledgement" equals "$(cat "$T/s4")" \
    "line=100 offset=$(head -n 100 "$D/big.jsonl" | wc -c | tr -d ' ') ino=$ino mtime=$(stat -c %Y "$D/big.jsonl").$(stat -c %y "$D/big.jsonl" | sed 's/.*\.\([0-9]*\) .*/\1/') file=big.jsonl"
check "half done: the file stays" equals "$(lsdir "$D")" "big.jsonl done "
run "$T/r5" --max 100 --stop-after 70 --state-file "$T/s4" "path=$D"
check "restart: goes on at line 101; a stop after 70 items" equals "$(refs "$T/r5")" \
    "$(seq_refs big.jsonl 101 170)"
check "restart: logged" contains "$T/r5.err" "big.jsonl: going on after line 100"
check "stop: the 70 handed over are acknowledged" contains "$T/r5" "ack OK 70"
run "$T/r6" --max 100 --state-file "$T/s4" "path=$D"
check "second restart: 171..250, in polls of 100" equals "$(refs "$T/r6")" "$(seq_refs big.jsonl 171 250)"
check "second restart: done" equals "$(lsdir "$D/done")" "big.jsonl "
check "second restart: state cleared" equals "$(cat "$T/s4")" ""
# unacknowledged lines come again in the next poll
D=$T/d2b
mkdir -p "$D"
lines "$D/x.jsonl" 1 5
run "$T/r6b" --max 2 --polls 2 --no-ack "path=$D"
check "not acknowledged: handed over again by the next poll" equals "$(refs "$T/r6b")" \
    "x.jsonl:1 x.jsonl:2 x.jsonl:1 x.jsonl:2 "

# a saved state for a file that changed: from line 1
D=$T/d3
mkdir -p "$D"
lines "$D/s.jsonl" 1 10
run "$T/r7" --max 4 --polls 1 --state-file "$T/s7" "path=$D"
cp "$D/s.jsonl" "$T/copy" && mv "$T/copy" "$D/s.jsonl" # same name and bytes, another inode
run "$T/r8" --max 4 --polls 1 --state-file "$T/s7" "path=$D"
check "replaced file (another inode): from line 1" equals "$(refs "$T/r8")" "$(seq_refs s.jsonl 1 4)"
check "replaced file: said so" contains "$T/r8.err" "s.jsonl changed since the saved state; starting at line 1"
: >"$T/short" && lines "$T/short" 1 2 && cat "$T/short" >"$D/s.jsonl" # same inode, shrunk
run "$T/r9" --max 4 --state-file "$T/s7" "path=$D"
check "shrunk file: from line 1" equals "$(refs "$T/r9")" "s.jsonl:1 s.jsonl:2 "
run "$T/r9b" --state "line=x file=y" "path=$D"
check "a state not understood: warned, ignored" contains "$T/r9b.err" "saved state not understood"

# --- unreadable lines, over-long lines ------------------------------------------------
D=$T/d4
mkdir -p "$D"
{
    printf '{"body":"fine 1"}\n'
    printf '{"body":"BROKEN secret words"}\n'
    printf '{"body":"fine 3"}\n'
    printf '{"body":"BROKEN again"}\n'
    printf '{"body":"%s"}\n' "$(head -c 300 /dev/zero | tr '\0' 'y')"
    printf '{"body":"fine 6"}\n'
} >"$D/u.jsonl"
mkdir "$T/o10"
run "$T/r10" --max 2 --out "$T/o10" --unreadable BROKEN --state-file "$T/s10" "path=$D" \
    max_line_bytes=100
check "unreadable: OK" equals "$(rc_of "$T/r10")" 0
check "unreadable: every line handed over once" equals "$(refs "$T/r10")" \
    "u.jsonl:1 u.jsonl:2 u.jsonl:3 u.jsonl:4 u.jsonl:5 u.jsonl:6 "
check "unreadable: logged as file:line" contains "$T/r10.err" "dropdir: u.jsonl:2 unreadable"
check "unreadable: no message text in the log" lacks "$T/r10.err" "secret"
check "unreadable: the file still goes to done/, with its list" equals "$(lsdir "$D/done")" \
    "u.jsonl u.jsonl.errors "
check "unreadable: done/NAME.errors lists the line numbers" equals \
    "$(tr '\n' ' ' <"$D/done/u.jsonl.errors")" "2 4 "
check "over-long: warned" contains "$T/r10.err" \
    "dropdir: u.jsonl:5 is 311 bytes, over max_line_bytes (100)"
check "over-long: handed over as something no JSON parser accepts" \
    "$PY" -c 'import json, sys
raw = open(sys.argv[1], "rb").read()
assert raw[:1] == b"\x01", raw[:20]
assert len(raw) < 600, len(raw)
try:
    json.loads(raw.decode("utf-8"))
except ValueError:
    sys.exit(0)
sys.exit(1)' "$T/o10/0005"
check "over-long: the next line is whole" contains "$T/r10" "item u.jsonl:6 format=1 len=17 "

# a restart after an unreadable line was recorded but before the state was
# saved lists it once only
D=$T/d4b
mkdir -p "$D"
printf '{"body":"BROKEN"}\n{"body":"fine"}\n' >"$D/v.jsonl"
printf '1\n' >"$D/.v.jsonl.errors"
ino=$(stat -c %i "$D/v.jsonl")
run "$T/r10b" --unreadable BROKEN \
    --state "line=0 offset=0 ino=$ino mtime=$(stat -c %Y "$D/v.jsonl").$(stat -c %y "$D/v.jsonl" | sed 's/.*\.\([0-9]*\) .*/\1/') file=v.jsonl" \
    "path=$D"
check "restart: an unreadable line is listed once" equals "$(tr '\n' ' ' <"$D/done/v.jsonl.errors")" "1 "
# a stale list from an earlier file of the same name is not carried over
D=$T/d4c
mkdir -p "$D"
printf '{"body":"fine"}\n' >"$D/w.jsonl"
printf '7\n' >"$D/.w.jsonl.errors"
run "$T/r10c" "path=$D"
check "stale .errors removed, no list in done/" equals "$(lsdir "$D")$(lsdir "$D/done")" "done w.jsonl "

# --- done/ only once every line is acknowledged; delete; name clashes ----------------
D=$T/d5
mkdir -p "$D/done"
lines "$D/p.jsonl" 1 3
run "$T/r11" --max 2 --polls 1 "path=$D"
check "partly acknowledged: the file stays" equals "$(lsdir "$D")" "done p.jsonl "
run "$T/r12" --max 2 "path=$D"
check "then all acknowledged: moved" equals "$(lsdir "$D")$(lsdir "$D/done")" "done p.jsonl "
lines "$D/p.jsonl" 1 1 again
run "$T/r13" "path=$D"
check "a name already in done/ is not replaced" equals "$(lsdir "$D/done")" "p.jsonl p.jsonl.2 "
check "a name already in done/: both kept" equals "$(grep -c again "$D/done/p.jsonl.2")" 1
D=$T/d6
mkdir -p "$D"
lines "$D/q.jsonl" 1 3
lines "$D/r.jsonl" 1 1 BROKEN
run "$T/r14" "path=$D" after=delete --unreadable BROKEN
check "delete: both handed over" equals "$(refs "$T/r14")" "q.jsonl:1 q.jsonl:2 q.jsonl:3 r.jsonl:1 "
check "delete: a file read completely is deleted" equals "$(ls -A "$D" | grep -c q.jsonl || true)" 0
check "delete: a file with unreadable lines goes to done/ instead" equals "$(lsdir "$D/done")" \
    "r.jsonl r.jsonl.errors "
D=$T/d6b
mkdir -p "$D"
printf '\n\n' >"$D/blank.jsonl"
: >"$D/empty.jsonl"
run "$T/r14b" "path=$D"
check "files without a message are finished too" equals "$(lsdir "$D/done")" "blank.jsonl empty.jsonl "

# --- many files; re-listing ---------------------------------------------------------
D=$T/d7
mkdir -p "$D"
"$PY" -c 'import sys
for n in range(1, 31):
    with open("%s/f%03d.jsonl" % (sys.argv[1], n), "w") as o:
        o.write("{\"body\":\"m%d a\"}\n{\"body\":\"m%d b\"}\n" % (n, n))' "$D"
run "$T/r15" --max 100 "path=$D" scan_limit=4
check "30 files, scan_limit 4: OK" equals "$(rc_of "$T/r15")" 0
check "30 files, scan_limit 4: 60 lines, each once, in order" equals "$(refs "$T/r15")" \
    "$("$PY" -c 'print(" ".join("f%03d.jsonl:%d" % (n, l) for n in range(1, 31) for l in (1, 2)) + " ", end="")')"
check "30 files: all in done/" equals "$(ls "$D/done" | wc -l | tr -d ' ')" 30
D=$T/d8
mkdir -p "$D"
lines "$D/k.jsonl" 1 1000
run "$T/r16" --max 100 --state-file "$T/s16" "path=$D"
check "1000 lines in polls of 100: each once" equals "$(refs "$T/r16")" "$(seq_refs k.jsonl 1 1000)"
check "1000 lines: ten acknowledgements of 100" equals "$(count "$T/r16" '^ack OK 100 ')" 10

# --- a file taken away between polls; the folder disappearing ------------------------
D=$T/d9
mkdir -p "$D"
for n in a b c d; do lines "$D/$n.jsonl" 1 1; done
mkdir "$T/o17"
mkfifo "$T/o17/0002"
"$DRIVER" "$PLUGIN" --max 1 --out "$T/o17" "path=$D" >"$T/r17" 2>"$T/r17.err" &
BG=$!
if wait_for "$T/r17" "ack OK 1"; then
    rm "$D/c.jsonl" # listed in poll 1, gone before poll 3
    cat "$T/o17/0002" >/dev/null
    rc=0
    wait "$BG" || rc=$?
    BG=
    sanitizer_clean "$T/r17.err"
    check "vanished: OK" equals "$rc" 0
    check "vanished: skipped silently" equals "$(refs "$T/r17")" "a.jsonl:1 b.jsonl:1 d.jsonl:1 "
else
    bad "vanished: the driver did not get through its first poll"
fi
D=$T/d10
mkdir -p "$D"
for n in a b c; do lines "$D/$n.jsonl" 1 1; done
mkdir "$T/o18"
mkfifo "$T/o18/0002"
"$DRIVER" "$PLUGIN" --max 1 --out "$T/o18" "path=$D" >"$T/r18" 2>"$T/r18.err" &
BG=$!
if wait_for "$T/r18" "ack OK 1"; then
    rm -rf "$D"
    cat "$T/o18/0002" >/dev/null
    rc=0
    wait "$BG" || rc=$?
    BG=
    sanitizer_clean "$T/r18.err"
    check "disappeared: the driver reports a failure" equals "$rc" 1
    check "disappeared: FATAL naming the folder" contains "$T/r18" \
        "poll FATAL more=0 dropdir: folder $D is missing or not a folder"
else
    bad "disappeared: the driver did not get through its first poll"
fi

# --- options, check only ----------------------------------------------------------------
D=$T/d11
mkdir -p "$D"
lines "$D/a.jsonl" 1 1
run "$T/opt1" "path=$D" bogus=1
check "unknown option refused, named" contains "$T/opt1" "open: dropdir: unknown option 'bogus'"
check "unknown option: exit 2" equals "$(rc_of "$T/opt1")" 2
run "$T/opt2" after=move
check "path required" contains "$T/opt2" "open: dropdir: option 'path' is required"
run "$T/opt3" "path=$D" after=seen
check "after: move or delete" contains "$T/opt3" "open: dropdir: option 'after' must be move or delete"
run "$T/opt4" "path=$D" max_line_bytes=abc
check "max_line_bytes is a number" contains "$T/opt4" "open: dropdir: option 'max_line_bytes' must be"
run "$T/opt5" "path=$D" pattern=*.jsonl,,*.x
check "pattern: no empty part" contains "$T/opt5" "open: dropdir: option 'pattern' must be"
run "$T/opt6" "path=$T/nowhere"
check "missing folder: open fails, clearly" contains "$T/opt6" \
    "open: dropdir: folder $T/nowhere: No such file or directory"
run "$T/opt7" --check "path=$D"
check "check only: OK" equals "$(rc_of "$T/opt7")" 0
check "check only: nothing handed over, done/ not created" equals \
    "$(count "$T/opt7" '^item')$(lsdir "$D")" "0a.jsonl "
(cd "$T" && run "$T/opt8" path=d11 --no-ack --polls 1)
check "relative path resolved against base_dir" contains "$T/opt8" "item a.jsonl:1 "
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$T/ro"
    chmod 500 "$T/ro"
    run "$T/opt9" --check "path=$T/ro"
    check "check only: a folder that cannot be changed is an error" contains "$T/opt9" \
        "open: dropdir: folder $T/ro: Permission denied"
    chmod 700 "$T/ro"
fi

finish dropdir
