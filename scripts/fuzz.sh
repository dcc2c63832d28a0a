#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 30).
# Crashes, leaks and hangs fail the run. Seeds: tests/fuzz/corpus/, the mail fixtures
# and the shipped rule files.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
sh scripts/deps.sh fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_FUZZ=ON -DRP_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
export G_SLICE=always-malloc G_DEBUG=gc-friendly
status=0
for t in build-fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$t")
  work=$(mktemp -d)
  case "$name" in
    fuzz_mime) seeds=tests/fixtures/mail ;;
    fuzz_jsonl) seeds=tests/fuzz/corpus/jsonl ;;
    fuzz_lexicon) seeds=tests/fuzz/corpus/lexicon ;;
    fuzz_config) seeds=tests/fuzz/corpus/config ;;
    # the shipped rule files are seeds as they are
    fuzz_lua) seeds="tests/fuzz/corpus/lua rules/examples" ;;
    fuzz_rules) seeds="tests/fuzz/corpus/rules rules" ;;
    *) seeds=tests/fuzz/corpus/${name#fuzz_} ;;
  esac
  dirs=""
  for d in $seeds; do [ -d "$d" ] && dirs="$dirs $d"; done
  echo "== $name (${secs}s)"
  if ! "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/" "$work" $dirs \
        >"$work/log" 2>&1; then
    echo "$name FAILED:"; tail -40 "$work/log"; status=1
  else
    tail -2 "$work/log"
  fi
  rm -rf "$work"
done
exit $status
