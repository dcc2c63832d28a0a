#!/bin/sh
# Installs the Debian 12 packages replyd needs to build and test, if missing.
# Usage: scripts/deps.sh [build|test|fuzz]   (default: build)
set -eu
what=${1:-build}
pkgs="build-essential cmake pkg-config libgmime-3.0-dev liblua5.4-dev libjansson-dev
      libutf8proc-dev libyaml-dev libsqlite3-dev libcurl4-openssl-dev libicu-dev
      libical-dev"
case "$what" in
  build) ;;
  test) pkgs="$pkgs libcmocka-dev python3 python3-aiosmtpd openssl dovecot-imapd" ;;
  fuzz) pkgs="$pkgs libcmocka-dev python3 python3-aiosmtpd openssl dovecot-imapd clang libclang-rt-14-dev" ;;
  *) echo "usage: $0 [build|test|fuzz]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "replyd needs these Debian packages:$missing" >&2
  echo "install them as root: apt-get install$missing" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
