#!/bin/sh
# Quick start: installs what is missing, builds replyd, checks the built-in
# configuration, rules and templates, and shows what replyd would do with the
# bundled sample messages in examples/ (overnight, holiday and office-hours
# cases in six languages) — first as a dry run, then stored in a queue in a
# temporary folder and listed as an operator sees it. Nothing is sent: the
# built-in configuration names no sink.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== replyd check  (built-in configuration, rules and templates)" >&2
./build/replyd check --quiet
echo "== replyd process --dry-run --format text examples/" >&2
./build/replyd process --dry-run --format text examples/
q=$(mktemp -d)
trap 'rm -rf "$q"' EXIT
echo "== replyd process --queue $q/queue.db examples/   (stored, as arriving Saturday 03:00 Berlin time)" >&2
./build/replyd process --queue "$q/queue.db" --now 2026-11-28T03:00:00+01:00 examples/ >/dev/null
echo "== replyd queue list --now 2026-11-28T09:00:00+01:00   (what waits for a human in the morning, soonest deadline first)" >&2
REPLYD_QUEUE="$q/queue.db" ./build/replyd queue list --now 2026-11-28T09:00:00+01:00
echo "== replyd stats --now 2026-11-28T09:00:00+01:00" >&2
REPLYD_QUEUE="$q/queue.db" ./build/replyd stats --now 2026-11-28T09:00:00+01:00
