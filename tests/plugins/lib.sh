# lib.sh — what the plugin test scripts (tests/plugins/test_*.sh) share:
# paths, python, a temporary folder cleaned up on exit with the servers the
# script started, and the check helpers that count failures. POSIX sh.
#
# A script is run as `sh test_NAME.sh DRIVER PLUGIN_DIR SOURCE_DIR` and
# sources this first thing after `set -eu`:
#   . "$3/tests/plugins/lib.sh"
# Then, after its own skip checks, it calls start_tmp (T: a fresh folder),
# runs its checks and ends with finish NAME.
#
# Set here: DRIVER (absolute), PLUGIN_DIR (absolute), SRC (absolute source
# folder), PY, FAILS. A script lists the servers it starts in PIDS (or BG
# for one in the background); they are killed on exit. A script that needs
# more cleaning defines a function test_cleanup, called before T goes.

abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
DRIVER=$(abspath "$1")
PLUGIN_DIR=$(abspath "$2")
SRC=$(abspath "$3")
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

FAILS=0
PIDS=
BG=
T=

# start_tmp: T is a new empty folder, removed on exit
start_tmp() {
    T=$(mktemp -d)
    trap plugin_test_exit EXIT
    trap 'exit 1' INT TERM
}
plugin_test_exit() {
    for p in $PIDS $BG; do kill "$p" 2>/dev/null || true; done
    if command -v test_cleanup >/dev/null 2>&1; then test_cleanup || true; fi
    if [ -n "$T" ]; then rm -rf "$T"; fi
}

ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds
check() {
    d=$1; shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}
# contains FILE TEXT / lacks FILE TEXT: TEXT as a fixed string
contains() {
    grep -qF -- "$2" "$1" && return 0
    echo "  no '$2' in:"
    sed 's/^/    /' "$1" | head -n 20
    return 1
}
lacks() {
    grep -qF -- "$2" "$1" || return 0
    echo "  '$2' found in $1"
    return 1
}
equals() {
    [ "$1" = "$2" ] && return 0
    echo "  got '$1', want '$2'"
    return 1
}
count() { grep -c -- "$2" "$1" || true; }
lsdir() { (cd "$1" && ls -A | tr '\n' ' '); }
# sanitizer_clean FILE: a sanitizer report in FILE is a failure
sanitizer_clean() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
        sed 's/^/    /' "$1" | head -n 40
        bad "sanitizer report in $1"
    fi
}
# run OUT [driver args...]: the driver on $PLUGIN; stdout to OUT (a path,
# or a name in $T), stderr to OUT.err, exit status to OUT.rc
run() {
    case $1 in /*) o=$1 ;; *) o=$T/$1 ;; esac
    shift
    rc=0
    "$DRIVER" "$PLUGIN" "$@" >"$o" 2>"$o.err" || rc=$?
    echo "$rc" >"$o.rc"
    sanitizer_clean "$o.err"
}
rc_of() { cat "$1.rc"; }

# finish NAME: the verdict; exits 1 when a check failed
finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    echo "all $1 checks passed"
}
