#!/usr/bin/env bash
# scipy's trust-ncg and trust-krylov as a peer of examples/second_order.rs on the same instances
# (part 2 and part 3: matrix factorization, octopus, two-layer network): export them from Rust,
# run scipy, certify scipy's points with the same certifier as ours (docs/comparison.md).
#
#   bash bench/scipy/run.sh [max_d, default 10000] [seeds, default 10] [families, default all]
#
# The peer installs itself from PyPI into bench/.venv (gitignored; may be a symlink to a shared
# environment) on first use. Tested with scipy 1.17.1, numpy 2.4.6.
set -euo pipefail
cd "$(dirname "$0")/../.."
max_d="${1:-10000}"
seeds="${2:-10}"
families="${3:-lowrank,octopus,network}"
venv="bench/.venv"
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
fi
"$py" -c "import scipy, numpy" 2>/dev/null || "$py" -m pip install --quiet scipy numpy
out="${TMPDIR:-/tmp}/saddle-escape-scipy"
rm -rf "$out"
mkdir -p "$out"
cargo run --quiet --release -p saddle-experiments --bin second_order -- --max-d "$max_d" --seeds "$seeds" export "$out"
"$py" bench/scipy/peer.py "$out" --max-d "$max_d" --seeds "$seeds" --families "$families"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --quiet --release -p saddle-experiments --bin second_order -- --max-d "$max_d" --seeds "$seeds" certify "$out"
