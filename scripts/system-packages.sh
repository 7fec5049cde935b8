#!/usr/bin/env bash
# Installs the Debian packages lic needs, with apt-get, only those missing (idempotent).
#   scripts/system-packages.sh build   what `cargo build -p lic-cli` needs: the FFmpeg
#                                      libraries of its `ffmpeg` feature (video files other
#                                      than Y4M, FFV1 output) and what their bindings are
#                                      generated with (libclang, pkg-config), a C toolchain
#   scripts/system-packages.sh test    the above, plus what the test suite runs: Mesa's
#                                      lavapipe (a Vulkan driver on the CPU) and the Vulkan
#                                      loader, so that wgpu is tested for real without a GPU;
#                                      the programs of `lic eval`'s live anchors (libjpeg-turbo's
#                                      cjpeg/djpeg, cwebp/dwebp, avifenc/avifdec, and ffmpeg
#                                      for x264 and x265 on clips)
set -euo pipefail
packages=(gcc libc6-dev pkg-config libclang-dev libavformat-dev libavcodec-dev libavutil-dev
    libswscale-dev)
case "${1:-build}" in
    build) ;;
    test) packages+=(mesa-vulkan-drivers libvulkan1 libjpeg-turbo-progs webp libavif-bin ffmpeg) ;;
    *) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac
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
