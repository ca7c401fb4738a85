#!/usr/bin/env bash
# The distributed finite sum over MPI against one process (issue 28): builds the check with
# `--features mpi` and runs it under `mpirun -np P` for P = 1, 2 and 3 on this machine. Each
# run compares, on every rank, the gradient and an HVP of the review MLP's full training loss
# (UCI digits), a seeded PSGD trace and a seeded Lanczos certificate with one process's, bit for
# bit. Exits 0 only when every run found all of them identical, and then prints one line.
#
# Needs Open MPI and libclang (rsmpi's bindings): on Debian,
#   apt-get install libopenmpi-dev openmpi-bin libclang-dev
# (.ci/run installs them). This script installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in mpirun mpicc; do
  if ! command -v "$tool" >/dev/null; then
    echo "distributed-check: $tool not found; install Open MPI and libclang first:" >&2
    echo "  apt-get install libopenmpi-dev openmpi-bin libclang-dev" >&2
    exit 2
  fi
done

# The dev profile (dependencies optimized; see Cargo.toml): it shares CI's other builds.
cargo build --quiet -p saddle-experiments --features mpi --bin distributed_check
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
check="$target_dir/debug/distributed_check"

# Open MPI refuses to run as root without being told, and 3 ranks on 2 cores is oversubscribed.
flags=(--oversubscribe)
[ "$(id -u)" = 0 ] && flags+=(--allow-run-as-root)

for np in 1 2 3; do
  if ! out=$(mpirun "${flags[@]}" -np "$np" "$check" 2>&1); then
    echo "$out" >&2
    echo "distributed-check: FAILED at $np rank(s)" >&2
    exit 1
  fi
done
echo "distributed check passed: 1, 2 and 3 MPI ranks — the review MLP's gradient and HVP (digits), a seeded PSGD trace and a seeded Lanczos certificate are identical to one process's, bit for bit, on every rank"
