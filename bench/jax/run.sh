#!/usr/bin/env bash
# Runs the Rust `backends` bench and the JAX peer on the same objectives and points, then prints
# the ratios. Usage: bash bench/jax/run.sh [dims, default 10,100,1000,10000,100000]
# Needs JAX: pip install "jax[cpu]".
set -euo pipefail
cd "$(dirname "$0")/../.."
dims="${1:-10,100,1000,10000,100000}"
out="${TMPDIR:-/tmp}/saddle-escape-bench"
mkdir -p "$out"
cargo bench -p autodiff-objectives --bench backends -- --dims "$dims" --csv "$out/rust.csv"
python3 bench/jax/bench_jax.py --dims "$dims" --csv "$out/jax.csv"
python3 bench/jax/compare.py "$out/rust.csv" "$out/jax.csv"
