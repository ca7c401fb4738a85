#!/usr/bin/env bash
# scipy's trust-ncg and trust-krylov as a peer of examples/second_order.rs, part 2, on the same
# instances: export them from Rust, run scipy, certify scipy's points with the same certifier.
# Usage: bash bench/scipy/run.sh [max_d, default 10000] [seeds, default 10]
# Needs scipy: pip install scipy (tested with scipy 1.17.1, numpy 2.4.6).
set -euo pipefail
cd "$(dirname "$0")/../.."
max_d="${1:-10000}"
seeds="${2:-10}"
out="${TMPDIR:-/tmp}/saddle-escape-scipy"
mkdir -p "$out"
cargo run --quiet --release --example second_order -- --max-d "$max_d" --seeds "$seeds" export "$out"
python3 bench/scipy/peer.py "$out" --max-d "$max_d" --seeds "$seeds"
cargo run --quiet --release --example second_order -- --max-d "$max_d" --seeds "$seeds" certify "$out"
