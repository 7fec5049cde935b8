#!/usr/bin/env bash
# The whole test suite: the README's second command, and exactly what CI runs (.ci/run).
# Installs the system packages it needs with apt-get when they are missing (idempotent), then
# checks formatting and lints and runs every test with optimised code.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the suite needs: a C toolchain, and Mesa's lavapipe (a Vulkan driver on the
# CPU) with the Vulkan loader, so the wgpu backend is tested for real without a GPU; and the
# programs of `lic eval`'s live anchors: libjpeg-turbo's cjpeg/djpeg, cwebp/dwebp, avifenc/
# avifdec, and ffmpeg (x264 and x265 on clips).
packages=(gcc libc6-dev mesa-vulkan-drivers libvulkan1 libjpeg-turbo-progs webp libavif-bin ffmpeg)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

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
