#!/bin/sh
# Quick start: installs what is missing, builds replyd, checks the built-in
# configuration, rules and templates, and shows what replyd would do with the
# bundled sample messages in examples/ (overnight, holiday and office-hours
# cases in six languages) — first as a dry run, then stored in a queue in a
# temporary folder and listed as an operator sees it; finally one round of the
# daemon (replyd run --once) over the sample e-mails as a relay Maildir, with
# the replies written to a preview file. Nothing is sent anywhere.
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
# The daemon, one round: the sample e-mails as a relay Maildir, the built-in
# configuration plus a source and a preview sink (a file instead of SMTP).
mkdir -p "$q/Maildir/new" "$q/Maildir/cur" "$q/Maildir/tmp"
cp examples/mail/*.eml "$q/Maildir/new/"
cat > "$q/run.yaml" <<YAML
queue: { path: run-queue.db }
marketplaces:
  amazon.com:   { sender: shop-us@seller.example }
  amazon.co.uk: { sender: shop-uk@seller.example }
  amazon.de:    { sender: shop-de@seller.example }
  amazon.fr:    { sender: shop-fr@seller.example }
  amazon.it:    { sender: shop-it@seller.example }
  amazon.es:    { sender: shop-es@seller.example }
  amazon.co.jp: { sender: shop-jp@seller.example }
sources:
  relay: { plugin: maildir, options: { path: Maildir } }
delivery:
  sink: preview
  sinks:
    preview: { plugin: file, options: { path: outbox.jsonl } }
YAML
echo 2026-11-28T03:00:00+01:00 > "$q/clock"
echo "== replyd run --once   (examples/mail/ as a Maildir, Saturday 03:00 Berlin; replies go to a file)" >&2
./build/replyd run --once --config "$q/run.yaml" --clock-file "$q/clock" 2>&1 |
  grep -E 'event=(stored|sent|failed)' | sed 's/^ts=[^ ]* //'
echo "== $(wc -l < "$q/outbox.jsonl" | tr -d ' ') acknowledgements written to the preview file; the Maildir's new/ now holds $(ls "$q/Maildir/new" | wc -l | tr -d ' ') messages" >&2
echo "== replyd status --now 2026-11-28T03:05:00+01:00" >&2
./build/replyd status --config "$q/run.yaml" --now 2026-11-28T03:05:00+01:00 || true
