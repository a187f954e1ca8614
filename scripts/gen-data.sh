#!/bin/sh
# Writes a generated shop as CSV (customers, products, orders, feedback).
#   scripts/gen-data.sh DIR [patron-gen options]
# e.g. the benchmark's set: scripts/gen-data.sh /tmp/big --customers 1000000 --lines 10000000
set -eu
[ $# -ge 1 ] || { echo "usage: scripts/gen-data.sh DIR [--customers N] [--lines N] [--seed N] [--end YYYY-MM-DD]" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
[ -x "$here/build/patron-gen" ] || make -C "$here" --no-print-directory build/patron-gen >&2
exec "$here/build/patron-gen" --out "$dir" "$@"
