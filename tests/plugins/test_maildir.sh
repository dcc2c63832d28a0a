#!/bin/sh
# test_maildir.sh — the maildir source plugin: order and exact bytes, new/ →
# cur/ with the right flags only after the acknowledgement, unreadable and
# oversized messages, files that vanish, 1 000 messages in polls of 100
# (each exactly once, also across re-listings), a Maildir that disappears,
# option checking and check-only opens.
#
# usage: sh test_maildir.sh SOURCE_DRIVER PLUGIN_DIR SOURCE_DIR
set -eu
LC_ALL=C
export LC_ALL

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/maildir.so
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built"; exit 1; }
command -v mkfifo >/dev/null 2>&1 || { echo "SKIP: mkfifo is missing"; exit 77; }
start_tmp

# mkmd DIR: an empty Maildir
mkmd() { mkdir -p "$1/new" "$1/cur" "$1/tmp"; }
# msg DIR NAME TEXT: a message in new/
msg() { printf 'From: buyer@example.com\nSubject: %s\n\n%s\n' "$3" "$3" >"$1/new/$2"; }
# wait_for FILE TEXT: until FILE holds TEXT (at most 20 s)
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 200 ] || return 1
        sleep 0.1
    done
}

# --- order, exact bytes, flags --------------------------------------------------
M=$T/m1
mkmd "$M"
msg "$M" 1700000300.M3P1.host three
msg "$M" 1700000100.M1P1.host one
msg "$M" 1700000200.M2P1.host:2,FR two
msg "$M" 999999999.M0P1.host zero   # nine digits: older than the ten-digit ones
printf 'x' >"$M/new/.hidden"          # hidden: not a message
mkdir "$M/new/sub"                    # a folder: skipped
touch -d '2024-05-01 12:00:00 UTC' "$M/new/1700000100.M1P1.host"
mkdir "$T/o1"
run "$T/r1" --no-ack --out "$T/o1" "path=$M"
check "no-ack: OK" equals "$(rc_of "$T/r1")" 0
check "no-ack: oldest first by the leading delivery time" equals \
    "$(grep '^item' "$T/r1" | cut -d' ' -f2 | tr '\n' ' ')" \
    "new/999999999.M0P1.host new/1700000100.M1P1.host new/1700000200.M2P1.host:2,FR new/1700000300.M3P1.host "
check "no-ack: MIME items (format 0)" equals "$(count "$T/r1" 'format=0 ')" 4
check "received is the file's mtime, len its size" contains "$T/r1" \
    "item new/1700000100.M1P1.host format=0 len=$(wc -c <"$M/new/1700000100.M1P1.host" | tr -d ' ') received=1714564800"
check "exact bytes" cmp -s "$T/o1/0002" "$M/new/1700000100.M1P1.host"
check "exact bytes (with an info part)" cmp -s "$T/o1/0003" "$M/new/1700000200.M2P1.host:2,FR"
check "no-ack leaves new/ untouched" equals "$(lsdir "$M/new")" \
    ".hidden 1700000100.M1P1.host 1700000200.M2P1.host:2,FR 1700000300.M3P1.host 999999999.M0P1.host sub "
check "no-ack leaves cur/ empty" equals "$(lsdir "$M/cur")" ""
check "no state is saved" lacks "$T/r1" "state "

run "$T/r2" "path=$M"
check "seen: OK" equals "$(rc_of "$T/r2")" 0
check "seen: every message handed over once" equals "$(count "$T/r2" '^item')" 4
check "seen: new/ holds what is not a message" equals "$(lsdir "$M/new")" ".hidden sub "
check "seen: cur/ names with S, existing flags kept in order" equals "$(lsdir "$M/cur")" \
    "1700000100.M1P1.host:2,S 1700000200.M2P1.host:2,FRS 1700000300.M3P1.host:2,S 999999999.M0P1.host:2,S "
check "seen: the bytes are the same after the move" cmp -s "$T/o1/0002" \
    "$M/cur/1700000100.M1P1.host:2,S"

run "$T/r3" "path=$M"
check "restart: nothing handed over again (new/ is the state)" equals "$(count "$T/r3" '^item')" 0
check "restart: poll OK, nothing more" contains "$T/r3" "poll OK more=0"

# --- keep, delete -------------------------------------------------------------
M=$T/m2
mkmd "$M"
msg "$M" 1700000001.A.host a
msg "$M" 1700000002.B.host:2,T b
msg "$M" 1700000003.C.host:1,xyz c
run "$T/r4" "path=$M" after=keep
check "keep: cur/ names without S; info kept, unknown info replaced" equals "$(lsdir "$M/cur")" \
    "1700000001.A.host:2, 1700000002.B.host:2,T 1700000003.C.host:2, "
M=$T/m3
mkmd "$M"
msg "$M" 1700000001.A.host a
msg "$M" 1700000002.B.host b
run "$T/r5" "path=$M" after=delete
check "delete: both handed over" equals "$(count "$T/r5" '^item')" 2
check "delete: gone from new/" equals "$(lsdir "$M/new")" ""
check "delete: nothing in cur/" equals "$(lsdir "$M/cur")" ""

# --- unreadable -----------------------------------------------------------------
M=$T/m4
mkmd "$M"
msg "$M" 1700000001.A.host fine
msg "$M" 1700000002.B.host BROKEN
msg "$M" 1700000003.C.host:2,R BROKEN
run "$T/r6" "path=$M" --unreadable BROKEN after=delete
check "unreadable without error_dir: OK" equals "$(rc_of "$T/r6")" 0
check "unreadable without error_dir: to cur/ flagged F, not S, never deleted" equals \
    "$(lsdir "$M/cur")" "1700000002.B.host:2,F 1700000003.C.host:2,FR "
check "unreadable: logged by name" contains "$T/r6.err" "new/1700000002.B.host unreadable"
check "unreadable: no message text in the log" lacks "$T/r6.err" "BROKEN"
M=$T/m5
mkmd "$M"
msg "$M" 1700000001.A.host fine
msg "$M" 1700000002.B.host BROKEN
run "$T/r7" "path=$M" --unreadable BROKEN "error_dir=$T/m5-errors"
check "error_dir: created, the unreadable message moved there under its name" equals \
    "$(lsdir "$T/m5-errors")" "1700000002.B.host "
check "error_dir: the readable one to cur/ seen" equals "$(lsdir "$M/cur")" "1700000001.A.host:2,S "
check "error_dir: private (0700)" equals "$(stat -c %a "$T/m5-errors")" 700

# --- oversized ----------------------------------------------------------------
M=$T/m6
mkmd "$M"
msg "$M" 1700000001.A.host small
head -c 5000 /dev/zero | tr '\0' 'x' >"$M/new/1700000002.B.host"
run "$T/r8" "path=$M" max_bytes=1000
check "oversized: handed over empty" contains "$T/r8" "item new/1700000002.B.host format=0 len=0 "
check "oversized: the small one whole" contains "$T/r8" \
    "item new/1700000001.A.host format=0 len=$(wc -c <"$M/cur/1700000001.A.host:2,S" | tr -d ' ') "
check "oversized: warned with the limit" contains "$T/r8.err" \
    "new/1700000002.B.host is 5000 bytes, over max_bytes (1000)"

# --- 1 000 messages in polls of 100 -------------------------------------------
M=$T/m7
mkmd "$M"
i=1000
while [ "$i" -lt 2000 ]; do
    printf 'Subject: %s\n\nn\n' "$i" >"$M/new/1700001$i.M${i}P1.host"
    i=$((i + 1))
done
(cd "$M/new" && ls | sort) >"$T/m7.names"
for limit in 10000 150; do
    rm -f "$M"/cur/*
    for f in $(cat "$T/m7.names"); do printf 'Subject: %s\n\nn\n' "$f" >"$M/new/$f"; done
    run "$T/r9" "path=$M" --max 100 scan_limit=$limit
    grep '^item' "$T/r9" | cut -d' ' -f2 | sed 's,^new/,,' >"$T/r9.names"
    check "1000 (scan_limit $limit): OK" equals "$(rc_of "$T/r9")" 0
    check "1000 (scan_limit $limit): each handed over exactly once, in order" \
        cmp -s "$T/r9.names" "$T/m7.names"
    check "1000 (scan_limit $limit): ten polls of 100" equals "$(count "$T/r9" '^ack OK 100 ')" 10
    check "1000 (scan_limit $limit): all in cur/" equals "$(ls "$M/cur" | wc -l | tr -d ' ')" 1000
    check "1000 (scan_limit $limit): new/ empty" equals "$(lsdir "$M/new")" ""
done
# not acknowledged: a sweep ends anyway (no endless re-listing), new/ untouched
for f in $(cat "$T/m7.names"); do printf 'n\n' >"$M/new/$f"; done
run "$T/r10" "path=$M" --max 100 --no-ack scan_limit=150
check "no-ack sweep over re-listings: each once, then more=0" equals \
    "$(count "$T/r10" '^item') $(tail -n 1 "$T/r10")" "1000 poll OK more=0 "
check "no-ack sweep: new/ untouched" equals "$(ls "$M/new" | wc -l | tr -d ' ')" 1000

# --- a message taken away between polls ----------------------------------------
M=$T/m8
mkmd "$M"
for n in 1 2 3 4; do msg "$M" "170000000$n.X.host" "m$n"; done
mkdir "$T/o8"
mkfifo "$T/o8/0002"
"$DRIVER" "$PLUGIN" --max 1 --out "$T/o8" "path=$M" >"$T/r11" 2>"$T/r11.err" &
BG=$!
if wait_for "$T/r11" "ack OK 1"; then
    rm "$M/new/1700000003.X.host" # listed in poll 1, gone before poll 3
    cat "$T/o8/0002" >/dev/null
    rc=0
    wait "$BG" || rc=$?
    BG=
    sanitizer_clean "$T/r11.err"
    check "vanished: OK" equals "$rc" 0
    check "vanished: skipped silently" equals \
        "$(grep '^item' "$T/r11" | cut -d' ' -f2 | tr '\n' ' ')" \
        "new/1700000001.X.host new/1700000002.X.host new/1700000004.X.host "
    check "vanished: nothing logged" equals "$(wc -l <"$T/r11.err" | tr -d ' ')" 0
else
    bad "vanished: the driver did not get through its first poll"
fi

# --- the Maildir disappears while in use: FATAL on poll -------------------------
M=$T/m9
mkmd "$M"
msg "$M" 1700000001.A.host a
msg "$M" 1700000002.B.host b
msg "$M" 1700000003.C.host c
mkdir "$T/o9"
mkfifo "$T/o9/0002"
# scan_limit 2: poll 3 has to list new/ again
"$DRIVER" "$PLUGIN" --max 1 --out "$T/o9" "path=$M" scan_limit=2 >"$T/r12" 2>"$T/r12.err" &
BG=$!
if wait_for "$T/r12" "ack OK 1"; then
    rm -rf "$M"
    # the driver is usually blocked writing message 2 into the FIFO; if the
    # folder went before poll 2 read it, message 2 is skipped as vanished and
    # nothing ever opens the FIFO: do not wait for it forever (the outcome,
    # FATAL at poll 3's listing, is the same either way)
    timeout 10 cat "$T/o9/0002" >/dev/null || true
    rc=0
    wait "$BG" || rc=$?
    BG=
    sanitizer_clean "$T/r12.err"
    check "disappeared: the driver reports a failure" equals "$rc" 1
    check "disappeared: FATAL naming the folder" contains "$T/r12" \
        "poll FATAL more=0 maildir: cannot list $M/new: No such file or directory"
else
    bad "disappeared: the driver did not get through its first poll"
fi

# --- options, check only --------------------------------------------------------
M=$T/m10
mkmd "$M"
msg "$M" 1700000001.A.host a
run "$T/opt1" "path=$M" bogus=1
check "unknown option refused, named" contains "$T/opt1" "open: maildir: unknown option 'bogus'"
check "unknown option: exit 2" equals "$(rc_of "$T/opt1")" 2
run "$T/opt2" after=seen
check "path required" contains "$T/opt2" "open: maildir: option 'path' is required"
run "$T/opt3" "path=$M" after=archive
check "after: seen, keep or delete" contains "$T/opt3" \
    "open: maildir: option 'after' must be seen, keep or delete"
run "$T/opt4" "path=$M" max_bytes=0
check "max_bytes must be positive" contains "$T/opt4" "open: maildir: option 'max_bytes' must be"
run "$T/opt5" "path=$M" path=/tmp
check "an option twice is refused" contains "$T/opt5" "open: maildir: option 'path' given twice"
run "$T/opt6" "path=$T/nowhere"
check "missing Maildir: open fails, clearly" contains "$T/opt6" \
    "open: maildir: $T/nowhere/new: No such file or directory (path must be a Maildir with cur/ and new/)"
mkdir -p "$T/halfmd/new"
run "$T/opt7" "path=$T/halfmd"
check "no cur/: open fails" contains "$T/opt7" "open: maildir: $T/halfmd/cur: No such file or directory"
(cd "$T" && run "$T/opt8" path=m10 --no-ack)
check "relative path resolved against base_dir" contains "$T/opt8" "item new/1700000001.A.host "
run "$T/opt9" --check "path=$M" "error_dir=$T/m10-err"
check "check only: OK" equals "$(rc_of "$T/opt9")" 0
check "check only: nothing handed over" lacks "$T/opt9" "item "
check "check only: error_dir not created" equals "$(ls -d "$T/m10-err" 2>/dev/null || true)" ""
check "check only: new/ untouched" equals "$(lsdir "$M/new")" "1700000001.A.host "
run "$T/opt10" --check "path=$T/nowhere"
check "check only: a missing Maildir is an error" contains "$T/opt10" "open: maildir: $T/nowhere/new:"
if [ "$(id -u)" -ne 0 ]; then
    mkmd "$T/ro"
    chmod 500 "$T/ro/cur"
    run "$T/opt11" --check "path=$T/ro"
    check "check only: cur/ not writable is an error" contains "$T/opt11" \
        "open: maildir: $T/ro/cur: Permission denied"
    chmod 700 "$T/ro/cur"
fi

finish maildir
