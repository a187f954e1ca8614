#!/bin/sh
# Installs the Debian packages Patron builds and tests with, only those missing.
# Quiet and quick when everything is present; works as root or through sudo.
# Usage: scripts/install-deps.sh [EXTRA-PACKAGE...]   (the bench passes its peers)
set -eu

PACKAGES="build-essential pkg-config liblua5.4-dev libsqlite3-dev sqlite3 check
libcurl4-openssl-dev libjansson-dev libcsv-dev libgsl-dev libsodium-dev libopenblas-dev
libmicrohttpd-dev
python3-aiosmtpd $*"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing packages:$missing; run this script as root (no sudo here)" >&2
	exit 1
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once before installing.
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
