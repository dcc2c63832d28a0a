#!/bin/sh
# Quick start: installs what is missing, builds replyd, checks the built-in
# configuration, rules and templates, and shows what replyd would do with the
# bundled sample messages in examples/ (overnight, holiday and office-hours
# cases in six languages) — a dry run: nothing is stored or sent.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== replyd check  (built-in configuration, rules and templates)" >&2
./build/replyd check --quiet
echo "== replyd process --dry-run --format text examples/" >&2
./build/replyd process --dry-run --format text examples/
