#!/bin/sh
# Builds replyd and runs every test. With --sanitize, builds and tests under
# AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/.
set -eu
cd "$(dirname "$0")/.."
dir=build-test
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags="-DCMAKE_BUILD_TYPE=Debug -DRP_SANITIZE=ON"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
  # GLib's slice allocator hides leaks from LeakSanitizer: use malloc
  export G_SLICE=always-malloc G_DEBUG=gc-friendly
fi
sh scripts/deps.sh test
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
cd "$dir"
ctest --output-on-failure -j"$(nproc)"
