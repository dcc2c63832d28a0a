#!/bin/sh
# Quick start: installs what is missing, builds replyd, and classifies the
# bundled sample messages in examples/ with the built-in default configuration.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRP_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== replyd classify examples/" >&2
./build/replyd classify examples/
