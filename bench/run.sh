#!/bin/sh
# replyd benchmarks: throughput and peak memory of `replyd classify` on one core.
#
#   sh bench/run.sh            # everything: about 12 minutes on a 2-core machine, plus
#                              # about 70 s the first time to generate the inputs
#   sh bench/run.sh --quick    # smaller inputs, to check that the script works
#
# Measures, with the Release build pinned to CPU 0 (taskset -c 0), output to /dev/null:
#   (a) JSON Lines, 10 000 / 100 000 / 1 000 000 messages (~500 bytes each)
#   (b) MIME Maildir, 10 000 / 100 000 messages (~3 KB each); then, for peak RSS, one run on
#       a Maildir of 1 000 000 entries (the 100 000 files hard-linked 10 times)
#   (c) 100 000 JSON Lines messages with synthetic lexicons of 100 / 1 000 / 10 000 keywords
#       (builtin_lexicons: false) and with the built-in lexicons
# Time is the median of 5 runs after one untimed warm-up run; hyperfine is used when
# installed, else a loop over `date +%s.%N`. The lexicon configurations of (c) are timed in
# interleaved rounds (date +%s.%N), so that background load affects them alike. Peak RSS is
# a separate run under `/usr/bin/time -f %M`; that run's output is checked (one line per
# message, no errors). Results: docs/performance.md explains them; this script writes
# bench/out/results.md.
#
# Environment: REPLYD (binary to measure; default: build-bench/replyd, the Release build of
# the working tree, brought up to date first), REPLYD_LABEL (how to describe a given REPLYD),
# BENCH_OUT (work directory for inputs and results, default bench/out), RUNS (default 5),
# BENCH_NO_HYPERFINE=1 (time with the shell loop even if hyperfine is installed),
# BENCH_TMPFS (where to copy the inputs for measuring, default /dev/shm; empty: read them
# from BENCH_OUT on disk).
# Inputs are generated once and reused while the generators are unchanged.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
OUT=${BENCH_OUT:-"$BENCH/out"}
RUNS=${RUNS:-5}
TMPFS=${BENCH_TMPFS-/dev/shm}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

if [ "$QUICK" = 1 ]; then
    OUT=${BENCH_OUT:-"$BENCH/out/quick"}
    JSONL_SIZES="1000 10000 20000"; MIME_SIZES="1000 5000"; LEX_MSGS=10000; RUNS=3
else
    JSONL_SIZES="10000 100000 1000000"; MIME_SIZES="10000 100000"; LEX_MSGS=100000
fi
LEX_SIZES="100 1000 10000"
JSONL_MAX=0; for n in $JSONL_SIZES; do JSONL_MAX=$n; done
MIME_MAX=0; for n in $MIME_SIZES; do MIME_MAX=$n; done
[ "$LEX_MSGS" -gt "$JSONL_MAX" ] && JSONL_MAX=$LEX_MSGS

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# ---- tools -----------------------------------------------------------------------------
command -v python3 >/dev/null || die "python3 is needed to generate the inputs"
PIN=""
if command -v taskset >/dev/null; then PIN="taskset -c 0"; else say "warning: taskset not found, not pinning to one core"; fi
HAVE_HF=0; [ -z "${BENCH_NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null && HAVE_HF=1
TIMEBIN=""; [ -x /usr/bin/time ] && TIMEBIN=/usr/bin/time
[ -n "$TIMEBIN" ] || say "warning: /usr/bin/time not found (apt-get install -y time): no peak RSS"

REPLYD_GIVEN=${REPLYD:-}
# what is being built, noted before building
SRC_DESC="commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
if ! (cd "$ROOT" && git diff --quiet HEAD -- core data cmake CMakeLists.txt 2>/dev/null); then
    SRC_DESC="$SRC_DESC plus uncommitted changes to $(cd "$ROOT" && git diff --name-only HEAD -- core data cmake CMakeLists.txt | wc -l) files (diff cksum $(cd "$ROOT" && git diff HEAD -- core data cmake CMakeLists.txt | cksum | cut -d' ' -f1))"
fi
if [ -z "${REPLYD:-}" ]; then
    # the Release build of the working tree, brought up to date
    REPLYD="$ROOT/build-bench/replyd"
    say "building the Release binary in build-bench/ ..."
    [ -f "$ROOT/build-bench/CMakeCache.txt" ] \
        || cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DRP_TESTS=OFF >/dev/null
    cmake --build "$ROOT/build-bench" -j2 >/dev/null || die "build failed"
fi
[ -x "$REPLYD" ] || die "no replyd binary at $REPLYD"

mkdir -p "$OUT"
RES="$OUT/results.md"

# ---- inputs ----------------------------------------------------------------------------
stamp=$(cat "$BENCH/corpus.py" "$BENCH/gen_jsonl.py" "$BENCH/gen_eml.py" "$BENCH/gen_lexicon.py" | cksum | cut -d' ' -f1)
if [ ! -f "$OUT/inputs.stamp" ] || [ "$(cat "$OUT/inputs.stamp")" != "$stamp-$QUICK" ]; then
    say "generating inputs in $OUT (once; reused while the generators are unchanged) ..."
    rm -rf "$OUT/in" "$OUT/inputs.stamp"
    mkdir -p "$OUT/in"
    t0=$(date +%s)
    # the two big generators run side by side (generation is not measured)
    python3 "$BENCH/gen_jsonl.py" "$JSONL_MAX" "$OUT/in/msgs-$JSONL_MAX.jsonl" &
    pj=$!
    for n in $MIME_SIZES; do python3 "$BENCH/gen_eml.py" "$n" "$OUT/in/maildir-$n"; done
    wait $pj
    for n in $JSONL_SIZES $LEX_MSGS; do
        [ -f "$OUT/in/msgs-$n.jsonl" ] || head -n "$n" "$OUT/in/msgs-$JSONL_MAX.jsonl" >"$OUT/in/msgs-$n.jsonl"
    done
    for n in $LEX_SIZES; do python3 "$BENCH/gen_lexicon.py" "$n" "$OUT/in/lex-$n"; done
    : >"$OUT/in/empty.jsonl"
    echo "$stamp-$QUICK" >"$OUT/inputs.stamp"
    say "inputs generated in $(( $(date +%s) - t0 )) s"
fi

# The inputs are read from tmpfs when there is room: on disk, the figures would include
# reading back whatever the kernel evicted from the page cache (on VMs with proactive
# reclaim, e.g. DAMON, even a warm-up run does not keep 1 GB of inputs cached).
IN="$OUT/in"
need=$(du -sm "$OUT/in" | cut -f1)
if [ -n "$TMPFS" ] && [ -d "$TMPFS" ] && [ -w "$TMPFS" ] \
    && [ "$(df -Pm "$TMPFS" | awk 'NR==2{print $4}')" -gt $((need * 2 + 512)) ]; then
    IN=$(mktemp -d "$TMPFS/replyd-bench.XXXXXX")
    trap 'rm -rf "$IN"' EXIT
    trap 'exit 130' INT TERM
    say "copying the inputs ($need MB) to $IN ..."
    cp -a "$OUT/in/." "$IN/"
fi

# a Maildir ten times the largest one, as hard links (no extra space), for peak RSS
if [ ! -d "$IN/maildir-x10" ]; then
    say "linking a Maildir of $((MIME_MAX * 10)) entries ..."
    rm -rf "$IN/maildir-x10.part"
    python3 - "$IN/maildir-$MIME_MAX" "$IN/maildir-x10.part" <<'EOF_PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
for sub in ("tmp", "new", "cur"):
    os.makedirs(os.path.join(dst, sub), exist_ok=True)
for sub in ("new", "cur"):
    names = sorted(os.listdir(os.path.join(src, sub)))
    for k in range(10):
        for name in names:
            # copy k of every file sorts after copy k-1 of all of them: no file is read
            # twice in a row (which would flatter the throughput with warm CPU caches)
            os.link(os.path.join(src, sub, name), os.path.join(dst, sub, "%d%s" % (k, name)))
EOF_PY
    mv "$IN/maildir-x10.part" "$IN/maildir-x10"
fi

# ---- measuring -------------------------------------------------------------------------
# median_time RUNS ARGS... : prints "median min max", wall seconds of `replyd classify ARGS`
median_time() {
    runs=$1; shift
    if [ "$HAVE_HF" = 1 ]; then
        # hyperfine -N runs the command without a shell; one warm-up run is not timed
        hyperfine -N -i --style none --warmup 1 --runs "$runs" --output=null \
            --export-json "$OUT/hf.json" "$PIN $REPLYD classify $*" >/dev/null 2>&1 \
            || die "hyperfine failed on: replyd classify $*"
        python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f %.3f" % (r["median"], r["min"], r["max"]))' "$OUT/hf.json"
    else
        # shellcheck disable=SC2086
        $PIN "$REPLYD" classify "$@" >/dev/null 2>&1 || true   # warm-up, not timed
        i=0
        : >"$OUT/times"
        while [ $i -lt "$runs" ]; do
            a=$(date +%s.%N)
            # shellcheck disable=SC2086
            $PIN "$REPLYD" classify "$@" >/dev/null 2>&1 || true
            b=$(date +%s.%N)
            awk -v a="$a" -v b="$b" 'BEGIN{printf "%.6f\n", b - a}' >>"$OUT/times"
            i=$((i + 1))
        done
        sort -g "$OUT/times" | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR]}'
    fi
}

# peak_rss EXPECTED ARGS... : prints the peak RSS in MB; checks lines and errors of the output
peak_rss() {
    expect=$1; shift
    if [ -n "$TIMEBIN" ]; then
        # shellcheck disable=SC2086
        $TIMEBIN -f %M -o "$OUT/rss" $PIN "$REPLYD" classify "$@" 2>/dev/null \
            | awk '/"error":/{e++} END{print NR, e+0}' >"$OUT/check" || true
    else
        # shellcheck disable=SC2086
        $PIN "$REPLYD" classify "$@" 2>/dev/null | awk '/"error":/{e++} END{print NR, e+0}' >"$OUT/check" || true
        echo 0 >"$OUT/rss"
    fi
    read -r lines errs <"$OUT/check"
    if [ "$lines" != "$expect" ] || [ "$errs" != 0 ]; then
        say "warning: replyd classify $*: $lines output lines (expected $expect), $errs errors"
        echo "\`replyd classify $*\`: $lines output lines (expected $expect), $errs errors" >>"$OUT/warn"
    fi
    awk '{printf "%.1f\n", $1 / 1024}' "$OUT/rss"
}

rate() { awk -v n="$1" -v t="$2" 'BEGIN{printf "%.0f", n / t}'; }
fmt_n() { awk -v n="$1" 'BEGIN{s=sprintf("%d", n); o=""; while (length(s) > 3) {o=" " substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }
MAXRSS=0
track_rss() { MAXRSS=$(awk -v a="$MAXRSS" -v b="$1" 'BEGIN{print (b > a) ? b : a}'); }
rm -f "$OUT/warn" "$OUT"/times-*

{
    echo "## replyd classify benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; $(uname -sr)"
    if [ -n "$REPLYD_GIVEN" ]; then
        echo "- replyd: \`$REPLYD\`${REPLYD_LABEL:+ ($REPLYD_LABEL)}, $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$REPLYD")/CMakeCache.txt" 2>/dev/null || echo '?') build"
    else
    echo "- replyd: build-bench/replyd, built from $SRC_DESC, $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$REPLYD")/CMakeCache.txt" 2>/dev/null || echo '?') build, $(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$(dirname "$REPLYD")/CMakeCache.txt" 2>/dev/null | xargs basename 2>/dev/null || echo cc)"
    fi
    echo "- method: \`${PIN:-no pinning}\`, output to /dev/null, median of $RUNS runs after 1 warm-up run ($( [ "$HAVE_HF" = 1 ] && hyperfine --version || echo 'date +%s.%N loop')); peak RSS from \`/usr/bin/time -f %M\`; inputs read from $(dirname "$IN") ($(stat -f -c %T "$IN"))"
    echo
} >"$RES"

say "measuring (a) JSON Lines and (b) MIME ..."
{
    echo "| input | messages | input size | median time (min–max) | messages/s | peak RSS |"
    echo "|---|---:|---:|---:|---:|---:|"
} >>"$RES"
JSONL_WORST=""
for n in $JSONL_SIZES; do
    f="$IN/msgs-$n.jsonl"
    # shellcheck disable=SC2046
    set -- $(median_time "$RUNS" "$f"); t=$1; tr="$2–$3"; r=$(rate "$n" "$t"); m=$(peak_rss "$n" "$f"); track_rss "$m"
    sz=$(du -m --apparent-size "$f" | cut -f1)
    say "  jsonl $n: $t s, $r msg/s, $m MB"
    [ -z "$JSONL_WORST" ] || [ "$r" -lt "$JSONL_WORST" ] && JSONL_WORST=$r
    JSONL_LAST=$r; JSONL_LASTN=$n
    echo "| JSON Lines | $(fmt_n "$n") | $sz MB | $t s ($tr) | $(fmt_n "$r") | $m MB |" >>"$RES"
done
MIME_WORST=""
for n in $MIME_SIZES; do
    d="$IN/maildir-$n"
    # shellcheck disable=SC2046
    set -- $(median_time "$RUNS" "$d"); t=$1; tr="$2–$3"; r=$(rate "$n" "$t"); m=$(peak_rss "$n" "$d"); track_rss "$m"
    sz=$(du -sm --apparent-size "$d" | cut -f1)
    say "  maildir $n: $t s, $r msg/s, $m MB"
    [ -z "$MIME_WORST" ] || [ "$r" -lt "$MIME_WORST" ] && MIME_WORST=$r
    MIME_LAST=$r; MIME_LASTN=$n
    echo "| MIME Maildir | $(fmt_n "$n") | $sz MB | $t s ($tr) | $(fmt_n "$r") | $m MB |" >>"$RES"
done

# peak RSS on a Maildir 10 times the largest: one run (its time is a single run, not a median)
n=$((MIME_MAX * 10)); d="$IN/maildir-x10"
say "  maildir $n (hard links): peak RSS, one run ..."
a=$(date +%s.%N); m=$(peak_rss "$n" "$d"); b=$(date +%s.%N); track_rss "$m"
t=$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b - a}'); r=$(rate "$n" "$t")
say "  maildir $n: $t s (one run), $r msg/s, $m MB"
echo "| MIME Maildir, the $(fmt_n "$MIME_MAX") files linked 10 times | $(fmt_n "$n") | (links) | $t s (one run) | $(fmt_n "$r") | $m MB |" >>"$RES"

say "measuring (c) lexicon scaling ..."
{
    echo
    echo "Lexicon scaling: $(fmt_n "$LEX_MSGS") JSON Lines messages. The four configurations are timed in interleaved rounds (one run of each per round, $RUNS rounds after one warm-up round), so that a change in background load hits all of them alike. \"load\" is \`replyd classify\` on an empty file (configuration, YAML, automaton), median of 10; \"time\" includes it."
    echo
    echo "| lexicons | keywords | load | median time (min–max) | messages/s | peak RSS | time / time(100) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
} >>"$RES"
f="$IN/msgs-$LEX_MSGS.jsonl"
lexcfg() { if [ "$1" = builtin ]; then echo ""; else echo "--config $IN/lex-$1/replyd.yaml"; fi; }
# time_once ARGS... : wall seconds of one `replyd classify ARGS`
time_once() {
    a=$(date +%s.%N)
    # shellcheck disable=SC2086
    $PIN "$REPLYD" classify "$@" >/dev/null 2>&1 || true
    b=$(date +%s.%N)
    awk -v a="$a" -v b="$b" 'BEGIN{printf "%.6f\n", b - a}'
}
round=0
while [ $round -le "$RUNS" ]; do   # round 0 is the warm-up
    for k in $LEX_SIZES builtin; do
        # shellcheck disable=SC2046
        t=$(time_once $(lexcfg "$k") "$f")
        [ $round = 0 ] || echo "$t" >>"$OUT/times-$k"
    done
    round=$((round + 1))
done
T100=""; T10K=""
for k in $LEX_SIZES builtin; do
    if [ "$k" = builtin ]; then
        label="built-in (data/lexicons)"
        kw=$(cat "$ROOT"/data/lexicons/*.yaml | grep -cE '^ *"')
        kw="~$(fmt_n "$kw")"
    else
        label="synthetic, builtin_lexicons: false"; kw=$(fmt_n "$k")
    fi
    cfg=$(lexcfg "$k")
    # shellcheck disable=SC2046,SC2086
    set -- $(median_time 10 $cfg "$IN/empty.jsonl"); tl=$1
    # shellcheck disable=SC2046
    set -- $(sort -g "$OUT/times-$k" | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR]}')
    t=$1; tr="$2–$3"; r=$(rate "$LEX_MSGS" "$t")
    rm -f "$OUT/times-$k"
    # shellcheck disable=SC2086
    m=$(peak_rss "$LEX_MSGS" $cfg "$f"); track_rss "$m"
    [ "$k" = 100 ] && T100=$t
    [ "$k" = 10000 ] && T10K=$t
    ratio=$(awk -v a="$t" -v b="$T100" 'BEGIN{printf "%.2f", a / b}')
    say "  lexicon $k: $t s (load $tl s), $r msg/s, $m MB, x$ratio"
    echo "| $label | $kw | $tl s | $t s ($tr) | $(fmt_n "$r") | $m MB | ${ratio}× |" >>"$RES"
done
LEXR=$(awk -v a="$T10K" -v b="$T100" 'BEGIN{printf "%.2f", a / b}')

met() { if [ "$1" = 1 ]; then echo "met"; else echo "**not met**"; fi; }
{
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    echo "| ≥ 100 000 JSON Lines messages/s on one core | $(fmt_n "$JSONL_LAST") /s at $(fmt_n "$JSONL_LASTN") messages (slowest size: $(fmt_n "$JSONL_WORST") /s) | $(met "$(awk -v r="$JSONL_LAST" 'BEGIN{print (r >= 100000)}')") |"
    echo "| ≥ 15 000 MIME messages/s on one core | $(fmt_n "$MIME_LAST") /s at $(fmt_n "$MIME_LASTN") messages (slowest size: $(fmt_n "$MIME_WORST") /s) | $(met "$(awk -v r="$MIME_LAST" 'BEGIN{print (r >= 15000)}')") |"
    echo "| peak RSS < 64 MB whatever the input size | $MAXRSS MB (largest, any input above) | $(met "$(awk -v r="$MAXRSS" 'BEGIN{print (r > 0 && r < 64)}')") |"
    echo "| 10 000 keywords cost ≤ 1.5× the time of 100 | ${LEXR}× | $(met "$(awk -v r="$LEXR" 'BEGIN{print (r <= 1.5)}')") |"
    [ ! -s "$OUT/warn" ] || { echo; echo "Warnings:"; sed 's/^/- /' "$OUT/warn"; }
} >>"$RES"

rm -f "$OUT/hf.json" "$OUT/times" "$OUT/rss" "$OUT/check" "$OUT/warn"
cat "$RES"
