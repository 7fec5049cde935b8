#!/usr/bin/env bash
# The whole test suite: the README's second command, and exactly what CI runs (.ci/run).
# Installs the system packages it needs with apt-get when they are missing (idempotent), then
# checks formatting and lints and runs every test with optimised code.
set -euo pipefail
cd "$(dirname "$0")/.."

# The system packages the build and the suite need (scripts/system-packages.sh says which).
bash scripts/system-packages.sh test

# The Vulkan loader wants a private runtime folder; without one it only warns.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (release profile)"
# The release profile, like the tests below: the proc macros and build scripts it compiles
# (unoptimised, release's build-override default) are then reused by the test build, where
# the dev profile would compile them a second time, at opt-level 3 (`[profile.dev.package."*"]`
# outranks build-override).
cargo clippy --workspace --all-targets --release --locked -- -D warnings
echo "== cargo test (release)"
cargo test --workspace --release --locked
