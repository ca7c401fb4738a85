#!/usr/bin/env bash
# A new user's first five minutes: `cargo new` in a temporary directory, saddle-escape (this
# checkout, by path) as the only dependency, the README's example as src/main.rs and every
# teaching example of examples/ as a binary; build them all, run the README's example.
# Exits non-zero if anything fails to compile or run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo new --quiet --vcs none --name first_steps "$tmp/first_steps"
cd "$tmp/first_steps"
printf 'saddle-escape = { path = "%s" }\n' "$root" >>Cargo.toml
# The workspace's lock file, so the new project resolves the same versions (and nothing new).
cp "$root/Cargo.lock" .

# The README's first rust block is the program.
awk '/^```rust$/ {f = 1; next} /^```/ && f {exit} f' "$root/README.md" >src/main.rs
[ -s src/main.rs ] || { echo "no rust block found in README.md"; exit 1; }
mkdir -p src/bin
cp "$root"/examples/*.rs src/bin/

# Share the workspace's build directory: dependencies are already compiled there.
export CARGO_TARGET_DIR="$root/target"
cargo build --quiet --bins
cargo run --quiet --bin first_steps
echo "fresh project: README example and $(ls src/bin | wc -l) examples build with saddle-escape as the only dependency"
