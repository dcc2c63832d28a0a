#!/bin/sh
# test_imap.sh — the imap source plugin against a private Dovecot on
# 127.0.0.1 (tests/servers/dovecot.sh): exact bytes and order (German,
# Japanese ISO-2022-JP and a message whose lines imitate IMAP responses),
# the saved UID cursor across runs, \Seen only after the acknowledgement
# (and not used to decide what is new), batches, after: move, unreadable
# messages with and without error_folder, a UIDVALIDITY change, refused
# login, a server that is down, imaps and STARTTLS with a self-signed
# certificate, check_only, option checking.
#
# usage: sh test_imap.sh SOURCE_DRIVER PLUGIN_DIR SOURCE_DIR
# exit 0 pass, 1 fail, 77 skip (Dovecot not installed)
set -eu

. "$3/tests/plugins/lib.sh"
PLUGIN=$PLUGIN_DIR/imap.so
FIX=$SRC/tests/plugins/fixtures
HARNESS=$SRC/tests/servers/dovecot.sh

if [ ! -x /usr/sbin/dovecot ] && ! command -v dovecot >/dev/null 2>&1; then
    echo "SKIP: dovecot is not installed (Debian package dovecot-imapd)"
    exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "SKIP: openssl is not installed (needed for the TLS cases)"
    exit 77
fi
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built"; exit 1; }

start_tmp
D=$T/dovecot
mkdir "$D"
test_cleanup() { sh "$HARNESS" stop "$D" >/dev/null 2>&1 || true; }

sh "$HARNESS" start "$D" --tls || { echo "FAIL: dovecot did not start"; exit 1; }
PORT=$(cat "$D/port")
IMAPS_PORT=$(cat "$D/imaps_port")
MD=$(cat "$D/maildir")
export IMAP_TEST_PW=secret
URL=imap://127.0.0.1:$PORT/INBOX
BASE="url=$URL tls=none username=relay password_env=IMAP_TEST_PW"

# fixtures as they travel: CRLF line ends (the server hands CRLF out)
crlf() { sed 's/\r$//; s/$/\r/' "$1" >"$2"; }
for f in de ja en unreadable; do
    crlf "$FIX/imap_$f.eml" "$T/$f.eml"
done
# the English one ends without a line end, and must stay that way
printf '%s' "$(cat "$T/en.eml")" >"$T/en.eml"

items() { grep -c '^item ' "$T/$1" || true; }
refs() { grep '^item ' "$T/$1" | awk '{print $4}' | tr '\n' ' '; }
# seen_count: messages of INBOX whose maildir name carries the S flag
seen_count() { ls "$MD/cur" | grep -c ':2,[A-Z]*S' || true; }
# nfiles DIR...: how many files the Maildir directories hold together
nfiles() { n=0; for d in "$@"; do n=$((n + $(ls "$d" 2>/dev/null | wc -l))); done; echo $n; }
imap() { # imap COMMAND: one command through curl, output on stdout
    curl -s --max-time 10 "imap://127.0.0.1:$PORT/" -u relay:secret -X "$1"
}

sh "$HARNESS" deliver "$D" "$T/de.eml" >/dev/null
sh "$HARNESS" deliver "$D" "$T/ja.eml" >/dev/null
sh "$HARNESS" deliver "$D" "$T/en.eml" >/dev/null

# --- without acknowledgement nothing is marked, and all comes again -----------
mkdir "$T/o1"
run r1 $BASE --no-ack --out "$T/o1"
check "no-ack run hands over 3 items" [ "$(items r1)" = 3 ]
check "in UID order" [ "$(refs r1)" = "1 2 3 " ]
check "German bytes exact" cmp -s "$T/o1/0001" "$T/de.eml"
check "Japanese ISO-2022-JP bytes exact" cmp -s "$T/o1/0002" "$T/ja.eml"
check "message imitating IMAP responses exact" cmp -s "$T/o1/0003" "$T/en.eml"
check "format MIME and INTERNALDATE set" \
    sh -c "grep '^item INBOX uid 1 ' '$T/r1' | grep -q 'format=0 len=$(wc -c <"$T/de.eml") received=[1-9]'"
check "no-ack run: poll OK, no state saved" sh -c "grep -q '^poll OK more=0' '$T/r1' && ! grep -q '^state' '$T/r1'"
check "no message flagged \\Seen without acknowledgement" [ "$(seen_count)" = 0 ]
check "tls none warns about the password" grep -q 'password crosses the network in clear' "$T/r1.err"
run r2 $BASE --no-ack
check "a second no-ack run hands over all 3 again" [ "$(refs r2)" = "1 2 3 " ]

# --- acknowledged: \Seen, state, cursor ------------------------------------------
ST=$T/state
run r3 $BASE --state-file "$ST"
check "acknowledged run: 3 items, ack OK" sh -c "[ \$(grep -c '^item ' '$T/r3') = 3 ] && grep -q '^ack OK 3' '$T/r3'"
check "state saved with uidvalidity and uid 3" grep -Eq '^uidvalidity=[0-9]+ uid=3 folder=INBOX$' "$ST"
check "all 3 flagged \\Seen after the acknowledgement" [ "$(seen_count)" = 3 ]
run r4 $BASE --state-file "$ST"
check "next run with the state hands over nothing" sh -c "[ \$(grep -c '^item ' '$T/r4') = 0 ] && grep -q '^poll OK more=0' '$T/r4'"

# a new message is handed over alone
sh "$HARNESS" deliver "$D" "$T/de.eml" >/dev/null
run r5 $BASE --state-file "$ST"
check "a message dropped in later is handed over alone" [ "$(refs r5)" = "4 " ]

# a message a person already read (\Seen) is still new to the cursor
name=$(date +%s).P$$.seen-by-human
cp "$T/ja.eml" "$MD/tmp/$name"
chmod 644 "$MD/tmp/$name"
[ "$(id -u)" = 0 ] && chown --reference="$MD/cur" "$MD/tmp/$name"
mv "$MD/tmp/$name" "$MD/cur/$name:2,S"
run r6 $BASE --state-file "$ST"
check "a message already flagged \\Seen by a mail client is still handed over" [ "$(refs r6)" = "5 " ]

# --- batches, max and more -------------------------------------------------------
i=1
while [ $i -le 7 ]; do
    printf 'From: b%s@marketplace.example\r\nSubject: batch %s\r\n\r\nbody %s\r\n' $i $i $i >"$T/b$i.eml"
    i=$((i + 1))
done
sh "$HARNESS" deliver "$D" "$T"/b1.eml "$T"/b2.eml "$T"/b3.eml "$T"/b4.eml "$T"/b5.eml \
    "$T"/b6.eml "$T"/b7.eml >/dev/null
run r7 $BASE batch=2 --max 3 --state-file "$ST"
check "7 messages in polls of 3 (batch 2): in order" [ "$(refs r7)" = "6 7 8 9 10 11 12 " ]
check "more=1 while messages remain, then more=0" \
    sh -c "[ \$(grep -c '^poll OK more=1' '$T/r7') = 2 ] && grep -q '^poll OK more=0' '$T/r7'"
check "cursor at 12" grep -q ' uid=12 ' "$ST"

# --- stop in the middle: what was not acknowledged comes again -------------------
sh "$HARNESS" deliver "$D" "$T/b1.eml" "$T/b2.eml" >/dev/null
run r8 $BASE --stop-after 1 --state-file "$ST"
check "stop after 1: one item handed over and acknowledged" \
    sh -c "[ \"\$(grep '^item ' '$T/r8' | awk '{print \$4}')\" = 13 ] && grep -q '^ack OK 1' '$T/r8'"
run r9 $BASE --state-file "$ST"
check "the one not acknowledged comes next" [ "$(refs r9)" = "14 " ]

# --- unreadable without error_folder: flagged \Seen, logged, not again -----------
sh "$HARNESS" deliver "$D" "$T/unreadable.eml" >/dev/null
run r10 $BASE --unreadable UNREADABLE-MARK --state-file "$ST"
check "unreadable: handed over once, acknowledged" sh -c "[ \"\$(grep '^item ' '$T/r10' | awk '{print \$4}')\" = 15 ] && grep -q '^ack OK 1' '$T/r10'"
check "unreadable without error_folder: logged as flagged \\Seen" \
    grep -q 'INBOX uid 15 could not be read as a message; flagged' "$T/r10.err"
check "log line holds no message content" sh -c "! grep -q 'buyer-bad' '$T/r10.err'"
run r11 $BASE --state-file "$ST"
check "unreadable message not handed over again" [ "$(items r11)" = 0 ]

# --- unreadable with error_folder: moved there ----------------------------------
imap 'CREATE Errors' >/dev/null
imap 'CREATE Done' >/dev/null
sh "$HARNESS" deliver "$D" "$T/unreadable.eml" "$T/b3.eml" >/dev/null
run r12 $BASE error_folder=Errors --unreadable UNREADABLE-MARK --state-file "$ST"
check "error_folder: 2 items, ack OK" sh -c "[ \$(grep -c '^item ' '$T/r12') = 2 ] && grep -q '^ack OK 2' '$T/r12'"
check "error_folder holds the unreadable message" \
    sh -c "[ \$(grep -l UNREADABLE-MARK '$MD'/.Errors/cur/* '$MD'/.Errors/new/* 2>/dev/null | wc -l) = 1 ]"
check "INBOX keeps only the earlier unreadable one (flagged \\Seen)" \
    sh -c "[ \$(grep -l UNREADABLE-MARK '$MD'/cur/* | wc -l) = 1 ] && grep -l UNREADABLE-MARK '$MD'/cur/* | grep -q ':2,[A-Z]*S\$'"
check "the readable one stays in INBOX, flagged \\Seen" \
    sh -c "[ \$(grep -l 'batch 3' '$MD'/cur/* | grep -vc ':2,[A-Z]*S\$') = 0 ]"

# --- UIDVALIDITY change: from UID 1 again, with a warning ------------------------
run r13 $BASE --no-ack --state "uidvalidity=1 uid=999 folder=INBOX"
check "UIDVALIDITY change: warning" grep -q 'UIDVALIDITY of .INBOX. changed from 1 to' "$T/r13.err"
check "UIDVALIDITY change: starts again from UID 1" sh -c "grep '^item ' '$T/r13' | head -n 1 | grep -q '^item INBOX uid 1 '"
check "UIDVALIDITY change: new state saved at once" grep -Eq '^state uidvalidity=[0-9]+ uid=0 folder=INBOX' "$T/r13"
run r14 $BASE --no-ack --state "uidvalidity=1 uid=3 folder=Other"
check "state of another folder is not used" sh -c "grep '^item ' '$T/r14' | head -n 1 | grep -q '^item INBOX uid 1 '"

# --- after: move -----------------------------------------------------------------
n_inbox=$(nfiles "$MD/cur" "$MD/new")
run r15 $BASE after=move move_to=Done --state-file "$T/state_move"
check "after move: everything handed over and acknowledged" grep -q '^ack OK' "$T/r15"
check "after move: INBOX is empty" [ "$(nfiles "$MD/cur" "$MD/new")" = 0 ]
check "after move: Done holds all the messages" [ "$(nfiles "$MD/.Done/cur" "$MD/.Done/new")" = "$n_inbox" ]
sh "$HARNESS" deliver "$D" "$T/de.eml" >/dev/null
run r16 $BASE after=move move_to=Done --state-file "$T/state_move"
check "after move: the next message alone" [ "$(items r16)" = 1 ]
check "after move: moved as well" [ "$(nfiles "$MD/cur" "$MD/new")" = 0 ]
sh "$HARNESS" deliver "$D" "$T/de.eml" >/dev/null
run r17 $BASE after=move move_to=NoSuchFolder --state-file "$T/state_move2"
check "move_to missing: ack FATAL naming the folder problem" grep -q '^ack FATAL .*does not exist' "$T/r17"

# --- errors ------------------------------------------------------------------------
export IMAP_TEST_BADPW=wrong
run r18 url=$URL tls=none username=relay password_env=IMAP_TEST_BADPW
check "wrong password: FATAL login refused" grep -q '^poll FATAL more=0 imap: login refused' "$T/r18"
check "wrong password: exit 1" [ "$(cat "$T/r18.rc")" = 1 ]
run r19 url=imap://127.0.0.1:$PORT/NoSuchFolder tls=none username=relay password_env=IMAP_TEST_PW
check "missing folder: FATAL" grep -q "^poll FATAL more=0 imap: cannot select folder 'NoSuchFolder'" "$T/r19"
DOWN=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run r20 url=imap://127.0.0.1:$DOWN/INBOX tls=none username=relay password_env=IMAP_TEST_PW
check "server down: RETRY with a connect detail" grep -Eq '^poll RETRY more=0 imap: connect: .*(refused|Couldn.t connect)' "$T/r20"

# --- TLS ---------------------------------------------------------------------------
sh "$HARNESS" deliver "$D" "$T/ja.eml" >/dev/null
run r21 url=imaps://127.0.0.1:$IMAPS_PORT/INBOX ca_file="$D/cert.pem" username=relay \
    password_env=IMAP_TEST_PW --no-ack --out "$T"
# INBOX now holds the message left by the move_to failure and this one
check "imaps with the self-signed certificate" sh -c "grep -q '^poll OK' '$T/r21' && [ \$(grep -c '^item ' '$T/r21') = 2 ]"
check "imaps: bytes exact" cmp -s "$T/0002" "$T/ja.eml"
run r22 url=$URL ca_file="$D/cert.pem" username=relay password_env=IMAP_TEST_PW --no-ack
check "starttls (the default for imap://)" sh -c "grep -q '^poll OK' '$T/r22' && [ \$(grep -c '^item ' '$T/r22') = 2 ]"
check "starttls: no clear-text warning" sh -c "! grep -q 'in clear' '$T/r22.err'"
run r23 url=imaps://127.0.0.1:$IMAPS_PORT/INBOX username=relay password_env=IMAP_TEST_PW
check "unknown CA: FATAL certificate refused" grep -q '^poll FATAL more=0 imap: the server certificate was refused' "$T/r23"

# --- password_file -------------------------------------------------------------------
printf 'secret\n' >"$T/pw"
chmod 644 "$T/pw"
run r24 url=$URL tls=none username=relay password_file="$T/pw" --check
check "password_file readable by others: refused" grep -q '^open: imap: password_file .*chmod 600' "$T/r24"
chmod 600 "$T/pw"
run r25 url=$URL tls=none username=relay password_file="$T/pw" --no-ack
check "password_file owner-only: logs in" grep -q '^poll OK' "$T/r25"

# --- check_only and option checking ----------------------------------------------------
before=$(grep -c 'imap-login' "$D/log" || true)
run r26 $BASE --check
sleep 0.3
after=$(grep -c 'imap-login' "$D/log" || true)
check "check_only: open OK, no poll" sh -c "[ \$(cat '$T/r26.rc') = 0 ] && ! grep -q '^poll' '$T/r26'"
check "check_only: no connection made" [ "$before" = "$after" ]
run r27 $BASE colour=blue --check
check "unknown option refused with the known ones" grep -q "^open: imap: unknown option 'colour' (known: url, tls" "$T/r27"
run r28 url=$URL tls=none username=relay password=secret --check
check "option password refused" grep -q "^open: imap: option 'password' is not accepted" "$T/r28"
run r29 $BASE after=move --check
check "after move without move_to refused" grep -q "move_to" "$T/r29"
run r30 url=imaps://127.0.0.1:1/INBOX tls=starttls username=relay password_env=IMAP_TEST_PW --check
check "imaps with tls starttls refused" grep -q "^open: imap: an imaps:// url always uses TLS" "$T/r30"
run r31 url=http://127.0.0.1:1/ username=relay password_env=IMAP_TEST_PW --check
check "other schemes refused" grep -q "^open: imap: option 'url' must start with imap://" "$T/r31"
run r32 $BASE batch=0 --check
check "batch 0 refused" grep -q "^open: imap: option 'batch'" "$T/r32"

# --- server stopped: RETRY -----------------------------------------------------------------
sh "$HARNESS" stop "$D"
run r33 $BASE --state-file "$ST"
check "server stopped: RETRY" grep -q '^poll RETRY more=0 imap: connect' "$T/r33"

if [ "$FAILS" -ne 0 ]; then
    for f in "$T"/r*.err; do
        [ -s "$f" ] && { echo "--- $f"; head -n 20 "$f"; }
    done
fi
finish imap
