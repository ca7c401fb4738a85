#!/usr/bin/env bash
# Ours against JAX and PyTorch, side by side in one run (docs/benchmarks.md, "Side by side with
# JAX and PyTorch"): Rosenbrock d = 1e3, 1e4, 1e5 and the trigonometric function d = 1e3, 1e4
# (gradient and HVP), a softmax cross-entropy MLP (2 074 weights, 256 samples) and the zoo's
# review network at its CIFAR-10 shape (394 634 weights, 64 images).
#
#   bash bench/run.sh                 # everything, ≈ 3 min after the first install
#   bash bench/run.sh --quick         # small sizes, short budgets (a smoke run)
#   bash bench/run.sh --peers jax     # only some peers (jax, torch; comma-separated)
#   bash bench/run.sh --only mlp      # only workloads whose name starts with this
#   bash bench/run.sh --svg chart.svg # also draw the ours / peer ratios
#   bash bench/run.sh --operator      # the record-once Hessian operator: K = 50 products at one
#                                     # point, ours four ways, echidna (Rust, record once) and
#                                     # JAX (jax.linearize, single and vmapped); issue 25
#
# The peers install themselves from PyPI into bench/.venv (gitignored) on first use:
# jax[cpu] and torch (torch's Linux wheel pulls CUDA libraries: ≈ 5 GB, a few minutes).
# Results (inputs, every side's values, timings) go to $OUT (default target/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
peers="jax,torch"
rust_args=()
svg=()
operator=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rust_args+=(--quick) ;;
    --peers) peers="$2"; shift ;;
    --only) rust_args+=(--only "$2"); shift ;;
    --svg) svg=(--svg "$2"); shift ;;
    --operator) operator=1; peers="jax" ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
out="${OUT:-target/peers}"
venv="bench/.venv"
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
fi
for peer in ${peers//,/ }; do
  case "$peer" in
    jax) "$py" -c "import jax" 2>/dev/null || "$py" -m pip install --quiet "jax[cpu]" numpy ;;
    torch) "$py" -c "import torch" 2>/dev/null || "$py" -m pip install --quiet torch numpy ;;
    *) echo "unknown peer: $peer" >&2; exit 2 ;;
  esac
done
rm -rf "$out"
mkdir -p "$out"
# Absolute: cargo bench runs our side in the package's folder, not here.
out="$(cd "$out" && pwd)"
if [ "$operator" = 1 ]; then
  echo "== ours and echidna (cargo bench -p saddle-bench-operator --bench operator)"
  cargo bench --quiet -p saddle-bench-operator --bench operator -- --out "$out" "${rust_args[@]}"
  echo "== jax (jax.linearize; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$py" bench/peers/jax_operator.py "$out"
  exit 0
fi
echo "== ours (cargo bench -p autodiff-objectives --bench peers)"
cargo bench --quiet -p autodiff-objectives --bench peers -- --out "$out" "${rust_args[@]}"
for peer in ${peers//,/ }; do
  echo "== $peer"
  "$py" "bench/peers/${peer}_peer.py" "$out"
done
echo "== side by side (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
"$py" bench/peers/compare.py "$out" "${svg[@]}"
