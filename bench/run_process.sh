#!/bin/sh
# replyd benchmark: the whole pipeline, `replyd process --dry-run`, on one core, against
# `replyd classify` and against Pigeonhole's sieve-filter with a vacation script.
#
#   sh bench/run_process.sh            # 10 000 and 100 000 messages: about 10 minutes on a
#                                      # 2-core VM, plus about 2 minutes the first time to
#                                      # generate the inputs
#   sh bench/run_process.sh --quick    # 1 000 and 5 000 messages, 3 runs: checks the script
#   sh bench/run_process.sh --profile  # also `perf record -g` one run of the largest JSON
#                                      # Lines input with all rules; top functions in
#                                      # BENCH_OUT/profile.txt
#
# Measures, with the Release build pinned to CPU 0 (taskset -c 0), output to /dev/null, on
# JSON Lines (bench/gen_jsonl.py) and on a Maildir (bench/gen_eml.py) of each size:
#   classify      replyd classify --config replyd-builtin.yaml INPUT
#   built-in      replyd process --dry-run --config replyd-builtin.yaml INPUT
#                 (the 5 built-in rules, templates, compliance)
#   +50 YAML      replyd process --dry-run --config replyd-yaml.yaml INPUT
#   +50 YAML +5 Lua   replyd process --dry-run --config replyd.yaml INPUT
#                 (the seller rule set of bench/gen_rules.py)
# and, on the same Maildirs, Pigeonhole's sieve-filter with bench/sieve/vacation.sieve:
#   sieve-filter      simulation mode (the default): runs the script on every message and
#                     prints the actions it would take; nothing is changed or sent
#   sieve-filter -e   execution mode: runs the script and commits the actions; the vacation
#                     action runs its checks (sender, recipient, list and auto-submitted
#                     headers) and then stops at "vacation action has no means to send mail":
#                     sieve-filter has no SMTP submission, so no reply is composed or sent
# sieve-filter runs in-process (no dovecot service, no auth service) with a private dovecot
# configuration (bench/sieve/dovecot.conf.in): the mailbox is opened read-only, the index is
# kept in memory (INDEX=MEMORY, rebuilt on every run, as replyd reads every file on every
# run) and the UID list is written to a private control directory by an untimed priming run.
# Dovecot refuses mail access as root, so when run as root sieve-filter runs as the user
# SIEVE_USER (default nobody) through setpriv(1).
#
# Time: median of RUNS (5) runs after one untimed warm-up round; the commands of one input
# are timed in interleaved rounds (one run of each per round), so that background load hits
# all of them alike. Each run gives its wall time (`date +%s.%N`) and its CPU time (user +
# system, `/usr/bin/time -f %U@%S`): on a shared machine other processes on CPU 0 stretch the
# wall time but hardly the CPU time. Peak RSS: a separate run under
# `/usr/bin/time -f %M`, whose output is checked (replyd: one line per message and no
# "error" line; sieve-filter: one result per message). Results: docs/performance.md explains
# them; this script writes BENCH_OUT/process-results.md (default bench/out/process-results.md).
#
# Environment: REPLYD (binary to measure; default: build-bench-proc/replyd, the Release build
# of the working tree, brought up to date first), RUNS (default 5), BENCH_OUT (work directory,
# default bench/out), BENCH_TMPFS (where the inputs are copied for measuring, default
# /dev/shm; empty: read them from BENCH_OUT on disk), PROCESS_ARGS (extra arguments for
# `replyd process`, e.g. "--now 2026-11-28T23:00:00+01:00"), SIEVE=0 (skip sieve-filter),
# SIEVE_USER (see above).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
OUT=${BENCH_OUT:-"$BENCH/out"}
RUNS=${RUNS:-5}
TMPFS=${BENCH_TMPFS-/dev/shm}
PROCESS_ARGS=${PROCESS_ARGS:-}
SIEVE=${SIEVE:-1}
SIEVE_USER=${SIEVE_USER:-nobody}
QUICK=0
PROFILE=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        --profile) PROFILE=1 ;;
        *) printf 'usage: sh bench/run_process.sh [--quick] [--profile]\n' >&2; exit 2 ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    OUT=${BENCH_OUT:-"$BENCH/out/quick"}
    SIZES="1000 5000"; RUNS=${RUNS_QUICK:-3}
else
    SIZES="10000 100000"
fi
MAX=0; for n in $SIZES; do MAX=$n; done
MIN=""; for n in $SIZES; do [ -n "$MIN" ] || MIN=$n; done

say() { printf '%s\n' "$*" >&2; }
die() { say "run_process.sh: $*"; exit 1; }

# ---- tools -----------------------------------------------------------------------------
command -v python3 >/dev/null || die "python3 is needed to generate the inputs"
PIN=""
if command -v taskset >/dev/null; then PIN="taskset -c 0"; else say "warning: taskset not found, not pinning to one core"; fi
TIMEBIN=""; [ -x /usr/bin/time ] && TIMEBIN=/usr/bin/time
[ -n "$TIMEBIN" ] || say "warning: /usr/bin/time not found (apt-get install -y time): no peak RSS, no CPU time"
if [ "$SIEVE" = 1 ] && ! command -v sieve-filter >/dev/null; then
    say "warning: sieve-filter not found (apt-get install -y dovecot-core dovecot-sieve): no Sieve comparison"
    SIEVE=0
fi

REPLYD_GIVEN=${REPLYD:-}
SRC_DESC="commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
if ! (cd "$ROOT" && git diff --quiet HEAD -- core data rules templates cmake CMakeLists.txt 2>/dev/null) \
    || [ -n "$(cd "$ROOT" && git status --porcelain -- core data rules templates 2>/dev/null | grep '^??' || true)" ]; then
    SRC_DESC="$SRC_DESC plus uncommitted changes"
fi
if [ -z "${REPLYD:-}" ]; then
    REPLYD="$ROOT/build-bench-proc/replyd"
    say "building the Release binary in build-bench-proc/ ..."
    [ -f "$ROOT/build-bench-proc/CMakeCache.txt" ] \
        || cmake -S "$ROOT" -B "$ROOT/build-bench-proc" -DCMAKE_BUILD_TYPE=Release -DRP_TESTS=OFF >/dev/null
    cmake --build "$ROOT/build-bench-proc" -j2 >/dev/null || die "build failed"
fi
[ -x "$REPLYD" ] || die "no replyd binary at $REPLYD"

mkdir -p "$OUT"
RES="$OUT/process-results.md"
WORK="$OUT/process-work"
rm -rf "$WORK"
mkdir -p "$WORK"
# CPU time (user + system) of each timed run, next to its wall time: on a shared VM other
# processes on CPU 0 stretch the wall time, not the CPU time
CPUTIME=""; [ -n "$TIMEBIN" ] && CPUTIME="$TIMEBIN -f %U@%S -o $WORK/cpu"

# ---- inputs ----------------------------------------------------------------------------
# The same generators and seeds as bench/run.sh: when its inputs (bench/out/in) are there and
# current, they are hard-linked instead of generated again.
stamp=$(cat "$BENCH/corpus.py" "$BENCH/gen_jsonl.py" "$BENCH/gen_eml.py" | cksum | cut -d' ' -f1)
INDIR="$OUT/in-process"
if [ ! -f "$INDIR/stamp" ] || [ "$(cat "$INDIR/stamp")" != "$stamp-$SIZES" ]; then
    say "preparing inputs in $INDIR (once; reused while the generators are unchanged) ..."
    rm -rf "$INDIR"
    mkdir -p "$INDIR"
    t0=$(date +%s)
    # the Maildirs of bench/run.sh are the same files when its inputs are current
    RUNIN="$BENCH/out/in"
    rstamp=$(cat "$BENCH/corpus.py" "$BENCH/gen_jsonl.py" "$BENCH/gen_eml.py" "$BENCH/gen_lexicon.py" | cksum | cut -d' ' -f1)
    reuse=0
    [ -f "$BENCH/out/inputs.stamp" ] && [ "$(cat "$BENCH/out/inputs.stamp")" = "$rstamp-0" ] && reuse=1
    for n in $SIZES; do
        if [ "$reuse" = 1 ] && [ -d "$RUNIN/maildir-$n" ] && cp -al "$RUNIN/maildir-$n" "$INDIR/maildir-$n" 2>/dev/null; then
            say "  maildir-$n: hard-linked from bench/out/in"
        else
            rm -rf "$INDIR/maildir-$n"
            python3 "$BENCH/gen_eml.py" "$n" "$INDIR/maildir-$n"
        fi
    done
    python3 "$BENCH/gen_jsonl.py" "$MAX" "$INDIR/msgs-$MAX.jsonl"
    for n in $SIZES; do
        [ -f "$INDIR/msgs-$n.jsonl" ] || head -n "$n" "$INDIR/msgs-$MAX.jsonl" >"$INDIR/msgs-$n.jsonl"
    done
    : >"$INDIR/empty.jsonl"
    echo "$stamp-$SIZES" >"$INDIR/stamp"
    say "inputs ready in $(( $(date +%s) - t0 )) s"
fi

# the seller rule set
python3 "$BENCH/gen_rules.py" "$WORK/seller" 2>/dev/null || die "gen_rules.py failed"
say "checking the rule set: replyd check --config seller/replyd.yaml ..."
if "$REPLYD" check --config "$WORK/seller/replyd.yaml" >"$WORK/check.txt" 2>&1; then
    CHECK_MSG="\`replyd check\`: $(tail -n 1 "$WORK/check.txt")"
else
    say "warning: replyd check reported problems:"
    sed 's/^/  /' "$WORK/check.txt" >&2
    CHECK_MSG="**\`replyd check\` failed**: $(tail -n 1 "$WORK/check.txt")"
fi

# The inputs are read from tmpfs when there is room (see bench/run.sh).
IN="$INDIR"
need=$(du -sm "$INDIR" | cut -f1)
CLEAN=""
if [ -n "$TMPFS" ] && [ -d "$TMPFS" ] && [ -w "$TMPFS" ] \
    && [ "$(df -Pm "$TMPFS" | awk 'NR==2{print $4}')" -gt $((need * 2 + 512)) ]; then
    IN=$(mktemp -d "$TMPFS/replyd-process.XXXXXX")
    CLEAN=$IN
    trap 'rm -rf "$CLEAN"' EXIT
    trap 'exit 130' INT TERM
    say "copying the inputs ($need MB) to $IN ..."
    cp -a "$INDIR/." "$IN/"
fi
cp -a "$WORK/seller" "$IN/seller"
CFG_BUILTIN="$IN/seller/replyd-builtin.yaml"
CFG_YAML="$IN/seller/replyd-yaml.yaml"
CFG_ALL="$IN/seller/replyd.yaml"

# ---- sieve-filter set-up ---------------------------------------------------------------
SV="$IN/sieve"
SV_AS=""
if [ "$SIEVE" = 1 ]; then
    mkdir -p "$SV/home" "$SV/run"
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || die "running as root: setpriv is needed to run sieve-filter as $SIEVE_USER (or SIEVE=0)"
        SV_UID=$(id -u "$SIEVE_USER") || die "no user $SIEVE_USER (set SIEVE_USER)"
        SV_GID=$(id -g "$SIEVE_USER")
        SV_AS="setpriv --reuid=$SV_UID --regid=$SV_GID --clear-groups env USER=$SIEVE_USER HOME=$SV/home"
        SV_WHO="$SIEVE_USER (uid $SV_UID), via setpriv: dovecot refuses mail access as root"
    else
        SV_UID=$(id -u); SV_GID=$(id -g)
        SV_AS="env USER=$(id -un) HOME=$SV/home"
        SV_WHO="$(id -un)"
    fi
    cp "$BENCH/sieve/vacation.sieve" "$SV/vacation.sieve"
    for n in $SIZES; do
        mkdir -p "$SV/control-$n"
        sed -e "s|@SV@|$SV|g" -e "s|@MAILDIR@|$IN/maildir-$n|g" -e "s|@CONTROL@|$SV/control-$n|g" \
            -e "s|@UID@|$SV_UID|g" -e "s|@GID@|$SV_GID|g" \
            "$BENCH/sieve/dovecot.conf.in" >"$SV/dovecot-$n.conf"
    done
    chmod a+rx "$IN"
    if [ "$(id -u)" = 0 ]; then chown -R "$SV_UID:$SV_GID" "$SV"; fi
    # compile once (sieve-filter would otherwise compile the script on its first run)
    # shellcheck disable=SC2086
    $SV_AS sievec -c "$SV/dovecot-$MIN.conf" "$SV/vacation.sieve" \
        || die "sievec failed on bench/sieve/vacation.sieve"
    # priming run: writes the control directory's UID list (a read-only first run of
    # sieve-filter on a Maildir without one filters nothing); not timed
    for n in $SIZES; do
        # shellcheck disable=SC2086
        $SV_AS sieve-filter -c "$SV/dovecot-$n.conf" "$SV/vacation.sieve" INBOX >/dev/null 2>"$WORK/sieve-prime.err" \
            || { cat "$WORK/sieve-prime.err" >&2; die "sieve-filter failed on maildir-$n"; }
    done
fi

# ---- measuring -------------------------------------------------------------------------
# The commands, as words (no path here contains spaces: BENCH_OUT and BENCH_TMPFS must not).
input_of() { case "$1" in jsonl) echo "$IN/msgs-$2.jsonl" ;; *) echo "$IN/maildir-$2" ;; esac; }
# cmd_words KIND FILE N [SIEVE-OPTIONS]
cmd_words() {
    kind=$1; f=$2; n=$3; shift 3
    case "$kind" in
        classify) echo "$PIN $REPLYD classify --config $CFG_BUILTIN $f" ;;
        builtin)  echo "$PIN $REPLYD process --dry-run $PROCESS_ARGS --config $CFG_BUILTIN $f" ;;
        yaml)     echo "$PIN $REPLYD process --dry-run $PROCESS_ARGS --config $CFG_YAML $f" ;;
        all)      echo "$PIN $REPLYD process --dry-run $PROCESS_ARGS --config $CFG_ALL $f" ;;
        sieve)    echo "$PIN $SV_AS sieve-filter $* -c $SV/dovecot-$n.conf $SV/vacation.sieve INBOX" ;;
        sieve-e)  echo "$PIN $SV_AS sieve-filter -e $* -c $SV/dovecot-$n.conf $SV/vacation.sieve INBOX" ;;
    esac
}
label_of() {
    case "$1" in
        classify) echo "\`replyd classify\`" ;;
        builtin)  echo "\`replyd process --dry-run\`, built-in rules" ;;
        yaml)     echo "\`replyd process --dry-run\`, + 50 YAML rules" ;;
        all)      echo "\`replyd process --dry-run\`, + 50 YAML + 5 Lua rules" ;;
        sieve)    echo "\`sieve-filter\` (simulation), vacation.sieve" ;;
        sieve-e)  echo "\`sieve-filter -e\` (execute; no SMTP), vacation.sieve" ;;
    esac
}
now() { date +%s.%N; }
median() { sort -g "$1" | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR]}'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN{printf "%.0f", n / t}'; }
fmt_n() { awk -v n="$1" 'BEGIN{s=sprintf("%d", n); o=""; while (length(s) > 3) {o=" " substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }

# peak_rss KIND FILE N: peak RSS (MB) of one run, and a check of its output (appends to
# $WORK/warn). taskset, setpriv and env exec the next program, so /usr/bin/time measures
# replyd or sieve-filter itself.
peak_rss() {
    kind=$1; f=$2; n=$3
    rssf="$WORK/rss"; echo 0 >"$rssf"
    tb=""; [ -n "$TIMEBIN" ] && tb="$TIMEBIN -f %M -o $rssf"
    case "$kind" in
        sieve)
            # shellcheck disable=SC2046
            $tb $(cmd_words sieve "$f" "$n") 2>"$WORK/stderr" \
                | awk '/^>> Filtering message/{m++} /send vacation message/{v++} END{print m+0, v+0}' >"$WORK/check" || true
            read -r got vac <"$WORK/check"
            errs=$(grep -ci 'error\|fatal' "$WORK/stderr" || true)
            echo "$vac" >"$WORK/vac-$n"
            ;;
        sieve-e)
            # -v: one "filtering" line per message on stderr
            # shellcheck disable=SC2046
            $tb $(cmd_words sieve-e "$f" "$n" -v) 2>&1 >/dev/null \
                | awk '/info: filtering:/{m++} /no means to send mail/{v++} /[Ee]rror|Fatal/{e++} END{print m+0, e+0, v+0}' >"$WORK/check" || true
            read -r got errs vac <"$WORK/check"
            echo $((vac / 2)) >"$WORK/vace-$n"   # logged twice: by the tool and by the library
            ;;
        *)
            # the decisions of the largest JSON Lines run with all rules are kept for the summary
            keep=/dev/null
            [ "$kind" = all ] && [ "$n" = "$MAX" ] && [ "$f" = "$IN/msgs-$n.jsonl" ] && keep="$WORK/decisions.jsonl"
            # shellcheck disable=SC2046
            $tb $(cmd_words "$kind" "$f" "$n") 2>"$WORK/stderr" \
                | tee "$keep" | awk '/"error":/{e++} END{print NR, e+0}' >"$WORK/check" || true
            read -r got errs <"$WORK/check"
            se=$(wc -l <"$WORK/stderr")
            if [ "$se" != 0 ]; then
                say "warning: $kind on $(basename "$f"): $se lines on stderr, first: $(head -n 1 "$WORK/stderr")"
                echo "$(label_of "$kind") on $(basename "$f"): $se lines on stderr, first: \`$(head -n 1 "$WORK/stderr")\`" >>"$WORK/warn"
            fi
            ;;
    esac
    if [ "$got" != "$n" ] || [ "${errs:-0}" != 0 ]; then
        say "warning: $kind on $(basename "$f"): $got results (expected $n), ${errs:-0} errors"
        echo "$(label_of "$kind") on $(basename "$f"): $got results (expected $n), ${errs:-0} errors" >>"$WORK/warn"
    fi
    # (GNU time puts "Command exited with non-zero status N" before the figure on a failure)
    tail -n 1 "$rssf" | awk '{printf "%.1f\n", $1 / 1024}'
}

rm -f "$WORK/warn"
{
    echo "## replyd process benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; $(uname -sr)"
    if [ -n "$REPLYD_GIVEN" ]; then
        echo "- replyd: \`$REPLYD\`"
    else
        echo "- replyd: build-bench-proc/replyd, built from $SRC_DESC, $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$REPLYD")/CMakeCache.txt" 2>/dev/null || echo '?') build"
    fi
    echo "- rules: bench/gen_rules.py (50 YAML rules in 5 files, 5 Lua rules) on top of the 5 built-in rules; $CHECK_MSG"
    if [ "$SIEVE" = 1 ]; then
        echo "- sieve-filter: Pigeonhole $(doveconf -c "$SV/dovecot-$MIN.conf" 2>/dev/null | sed -n 's/^# Pigeonhole version \([^ ]*\).*/\1/p' | head -n 1), dovecot $(doveconf -c "$SV/dovecot-$MIN.conf" 2>/dev/null | sed -n 's/^# \([0-9][^ ]*\) .*/\1/p' | head -n 1); run as $SV_WHO; bench/sieve/vacation.sieve, private configuration bench/sieve/dovecot.conf.in"
    fi
    echo "- method: \`${PIN:-no pinning}\`, output to /dev/null, median of $RUNS runs after 1 warm-up round, the commands of one input interleaved; wall time from date +%s.%N, CPU time (user + system) from \`/usr/bin/time -f %U@%S\` of the same run; peak RSS from \`/usr/bin/time -f %M\` in a separate run; inputs read from $(dirname "$IN") ($(stat -f -c %T "$IN"))${PROCESS_ARGS:+; process arguments: \`$PROCESS_ARGS\`}"
    echo
    echo "| input | messages | command | median wall time (min–max) | messages/s | median CPU time | messages/CPU-second | peak RSS | CPU µs/message over classify |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
} >"$RES"

for input in jsonl maildir; do
    for n in $SIZES; do
        f=$(input_of "$input" "$n")
        kinds="classify builtin yaml all"
        [ "$input" = maildir ] && [ "$SIEVE" = 1 ] && kinds="$kinds sieve sieve-e"
        say "measuring $input $n: $kinds ..."
        for k in $kinds; do : >"$WORK/times-$k"; done
        round=0
        while [ $round -le "$RUNS" ]; do   # round 0 is the warm-up
            for k in $kinds; do
                c=$(cmd_words "$k" "$f" "$n")
                a=$(now)
                # shellcheck disable=SC2086
                $CPUTIME $c >/dev/null 2>&1 || say "warning: $k on $f exited with an error"
                b=$(now)
                if [ $round != 0 ]; then
                    awk -v a="$a" -v b="$b" 'BEGIN{printf "%.6f\n", b - a}' >>"$WORK/times-$k"
                    if [ -n "$CPUTIME" ]; then tail -n 1 "$WORK/cpu" | awk -F@ '{printf "%.2f\n", $1 + $2}' >>"$WORK/cpu-$k"; else echo 0 >>"$WORK/cpu-$k"; fi
                fi
            done
            round=$((round + 1))
        done
        ccl=""
        for k in $kinds; do
            # shellcheck disable=SC2046
            set -- $(median "$WORK/times-$k"); t=$1; tr="$2–$3"
            # shellcheck disable=SC2046
            set -- $(median "$WORK/cpu-$k"); cpu=$(awk -v c="$1" 'BEGIN{printf "%.2f", c}')
            r=$(rate "$n" "$t")
            rc=$(awk -v n="$n" -v c="$cpu" 'BEGIN{printf "%.0f", (c > 0) ? n / c : 0}')
            m=$(peak_rss "$k" "$f" "$n")
            [ "$k" = classify ] && ccl=$cpu
            over="–"
            case "$k" in builtin|yaml|all) over=$(awk -v a="$cpu" -v b="$ccl" -v n="$n" 'BEGIN{printf "%.0f", (a - b) / n * 1e6}') ;; esac
            echo "$input $n $k $t $r $m $cpu $rc" >>"$WORK/summary"
            say "  $k: $t s ($tr), $r msg/s; CPU $cpu s, $rc msg/CPU-s; $m MB"
            name=$([ "$input" = jsonl ] && echo "JSON Lines" || echo "Maildir")
            echo "| $name | $(fmt_n "$n") | $(label_of "$k") | $t s ($tr) | $(fmt_n "$r") | $cpu s | $(fmt_n "$rc") | $m MB | $over |" >>"$RES"
        done
        rm -f "$WORK"/times-* "$WORK"/cpu-*
    done
done

# ---- summary ---------------------------------------------------------------------------
get() { awk -v i="$1" -v n="$2" -v k="$3" -v c="$4" '$1==i && $2==n && $3==k {print $c}' "$WORK/summary"; }
{
    echo
    echo "Peak RSS from $(fmt_n "$MIN") to $(fmt_n "$MAX") messages:"
    echo
    for input in jsonl maildir; do
        kinds="classify builtin yaml all"
        [ "$input" = maildir ] && [ "$SIEVE" = 1 ] && kinds="$kinds sieve sieve-e"
        for k in $kinds; do
            a=$(get "$input" "$MIN" "$k" 6); b=$(get "$input" "$MAX" "$k" 6)
            flat=$(awk -v a="$a" -v b="$b" 'BEGIN{print (b <= a * 1.15 + 2) ? "flat" : "**grows**"}')
            echo "- $([ "$input" = jsonl ] && echo "JSON Lines" || echo "Maildir"), $(label_of "$k"): $a → $b MB, $flat"
        done
    done
    if [ "$SIEVE" = 1 ]; then
        echo
        echo "replyd against sieve-filter on the same Maildirs: messages/s of wall time (and per CPU-second); ratio = replyd / sieve-filter:"
        echo
        echo "| messages | replyd process, 50 YAML + 5 Lua rules | sieve-filter (simulation) | ratio | sieve-filter -e | ratio | vacation replies (simulation / -e) |"
        echo "|---:|---:|---:|---:|---:|---:|---:|"
        for n in $SIZES; do
            ra=$(get maildir "$n" all 5); rs=$(get maildir "$n" sieve 5); re=$(get maildir "$n" sieve-e 5)
            ca=$(get maildir "$n" all 8); cs=$(get maildir "$n" sieve 8); ce=$(get maildir "$n" sieve-e 8)
            ratio() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN{printf "%.2f× (%.2f×)", a / b, (d > 0) ? c / d : 0}'; }
            echo "| $(fmt_n "$n") | $(fmt_n "$ra") ($(fmt_n "$ca")) | $(fmt_n "$rs") ($(fmt_n "$cs")) | $(ratio "$ra" "$rs" "$ca" "$cs") | $(fmt_n "$re") ($(fmt_n "$ce")) | $(ratio "$ra" "$re" "$ca" "$ce") | $(cat "$WORK/vac-$n" 2>/dev/null || echo '?') / $(cat "$WORK/vace-$n" 2>/dev/null || echo '?') |"
        done
    fi
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    rj=$(get jsonl "$MAX" all 5); rm_=$(get maildir "$MAX" all 5)
    cj=$(get jsonl "$MAX" all 8); cm=$(get maildir "$MAX" all 8)
    met() { if [ "$1" = 1 ]; then echo "met"; else echo "**not met**"; fi; }
    echo "| ≥ 20 000 messages/s on one core with 50 YAML + 5 Lua rules (JSON Lines) | $(fmt_n "$rj") /s at $(fmt_n "$MAX") messages ($(fmt_n "$cj") per CPU-second) | $(met "$(awk -v r="$rj" 'BEGIN{print (r >= 20000)}')") |"
    echo "| the same on a Maildir (MIME decoding included) | $(fmt_n "$rm_") /s at $(fmt_n "$MAX") messages ($(fmt_n "$cm") per CPU-second) | $(met "$(awk -v r="$rm_" 'BEGIN{print (r >= 20000)}')") |"
    [ ! -s "$WORK/warn" ] || { echo; echo "Warnings:"; sed 's/^/- /' "$WORK/warn"; }
} >>"$RES"

# ---- decisions (what the rules did), from the peak-RSS run of the largest JSON Lines input
if [ -s "$WORK/decisions.jsonl" ]; then
    python3 - "$WORK/decisions.jsonl" >>"$RES" <<'EOF_PY' || say "warning: could not summarise the decisions"
import collections, json, sys

def load(path):
    rules, tags, actions, n = collections.Counter(), collections.Counter(), collections.Counter(), 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                d = json.loads(line)
            except ValueError:
                continue
            n += 1
            r = d.get("rule")
            if r is None and isinstance(d.get("decision"), dict):
                d = d["decision"]
                r = d.get("rule")
            rules[r if isinstance(r, str) else str(r)] += 1
            for t in d.get("tags") or []:
                tags[t] += 1
            for rep in d.get("replies") or []:
                if isinstance(rep, dict):
                    actions[rep.get("action", "?")] += 1
    return n, rules, tags, actions

n, rules, tags, actions = load(sys.argv[1])
if n == 0:
    sys.exit(0)
print()
print("Decisions with all rules (%d messages): `rule` (the first matching rule, a `continue` rule included), top 12: %s. Tags, top 10: %s. Replies: %s." % (
    n,
    ", ".join("`%s` %.1f %%" % (k, 100.0 * v / n) for k, v in rules.most_common(12)),
    ", ".join("`%s` %.1f %%" % (k, 100.0 * v / n) for k, v in tags.most_common(10)) or "none",
    ", ".join("%s %d" % kv for kv in sorted(actions.items())) or "none"))
EOF_PY
fi

if [ "$PROFILE" = 1 ]; then
    if command -v perf >/dev/null; then
        say "profiling: perf record -g, replyd process, all rules, JSON Lines $MAX ..."
        # shellcheck disable=SC2086
        perf record -g -o "$OUT/perf.data" $PIN "$REPLYD" process --dry-run $PROCESS_ARGS --config "$CFG_ALL" "$IN/msgs-$MAX.jsonl" >/dev/null 2>"$WORK/perf.err" \
            || say "warning: perf record failed: $(tail -n 1 "$WORK/perf.err")"
        perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2>/dev/null \
            | grep -E '^ +[0-9]' | head -n 40 >"$OUT/profile.txt" || true
        say "top functions (self time): $OUT/profile.txt"
        head -n 25 "$OUT/profile.txt" >&2
    else
        say "warning: perf not found: no profile"
    fi
fi

rm -f "$WORK/rss" "$WORK/check" "$WORK/stderr" "$WORK/cpu" "$WORK/decisions.jsonl"
cat "$RES"
