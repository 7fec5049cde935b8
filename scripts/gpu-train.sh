#!/usr/bin/env bash
# GPU training round trip (issue "Training"): pack here, train on a remote Linux machine with
# an NVIDIA GPU and no network, bring the checkpoint back, resume here.
#
#   scripts/gpu-train.sh pack RUN_DIR            # -> carry/ (<= 64 MiB): binary, crops, loaders, run
#   scripts/gpu-train.sh remote MINUTES [ARGS]   # the command to run there, from the repo root
#   scripts/gpu-train.sh unpack FILES_DIR RUN_DIR  # put the returned checkpoint into RUN_DIR
#
# Size MINUTES to the device tool's limits (its README): one command runs at most 10 minutes
# and a session has 15 minutes of device time, the machine's start included, so one round is
# `remote 7` run with timeout_s 600. `--minutes` counts training time only (the first steps
# compile kernels), so the remote command also sends lic a Ctrl-C a minute after MINUTES:
# lic then stops after the step in flight and writes its checkpoint, and the copy into $OUT
# still runs before the call's limit.
#
# The remote command writes into $OUT: checkpoint.licm (weights + run state; resumable with
# `lic train --resume --weights-only`, a fresh Adam), model.licm, log.jsonl, each well under
# 16 MiB for lic's architectures. Adam's moments are left behind (twice the weights' size).
#
# Used on an NVIDIA H100 (the `device` tool, 2026-11-23): two rounds of `lic train --backend
# wgpu`, 16 x 256^2 crops per step at 68-87 crops/s (docs/RESULTS.md). The device call names
# `carry` in its carry list; the remote command prints what to run there. The packing and the
# local half are tested here (`pack` then `unpack` of a local run).
set -euo pipefail
cd "$(dirname "$0")/.."

CARRY=carry

pack() {
    local run_dir=$1
    mkdir -p "$CARRY/data" "$CARRY/run" "$CARRY/gl"
    grep -qx '/carry/' .gitignore || echo '/carry/' >> .gitignore
    cargo build --release -p lic-cli
    strip -o "$CARRY/lic" target/release/lic
    # -9e: one block with a 64 MiB dictionary, 22 MB where -6 in parallel blocks gave 31
    # (the stripped binary is about 100 MB), so about a hundred more crops travel.
    xz -T0 -9e -f "$CARRY/lic"
    # The Vulkan loader and the GL dispatch libraries: the NVIDIA driver there brings its
    # Vulkan ICD, but that ICD links against libglvnd's libraries, and without them wgpu
    # finds no adapter (measured on the H100: "no adapter found" with libvulkan1 alone).
    (cd "$CARRY/gl" && o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64' &&
        mkdir -p /tmp/amd64/partial && apt-get $o update -qq &&
        apt-get $o download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2)
    cp "$run_dir/checkpoint.licm" "$CARRY/run/" 2>/dev/null || echo "no checkpoint in $run_dir: the remote run starts afresh (or from --init MODEL)"
    # A deterministic subset of the training crops, as many as fit in what is left of the
    # 64 MiB copy (the tracked files travel too), spread evenly over the sorted list: file i
    # of n goes when floor(i * want / n) steps up (a whole stride, every k-th file, lost a
    # sixth of the crops when the tracked files grew past a boundary: 235 to 196). They
    # travel as lossless WebP (cwebp, package `webp`; the same pixels in about 3/4 of the
    # PNG's bytes).
    # Only training files go (`lic split --part train`: the held-out source photos stay
    # here), with a manifest.json that names each file's source photo, so that the run
    # there holds out none of them and knows which crops share a photo.
    command -v cwebp > /dev/null || { echo "cwebp missing: apt-get install webp" >&2; exit 1; }
    rm -f "$CARRY"/data/*
    local budget tracked used avail avg want
    budget=$(( ${LIC_GPU_BUDGET_MIB:-62} * 1048576 ))
    tracked=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
    used=$(du -sb "$CARRY" | cut -f1)
    avail=$(( budget - tracked - used ))
    target/release/lic split --part train ../shared/datasets/train ../shared/datasets/train2 \
        > "$CARRY/train.tsv"
    local n
    n=$(wc -l < "$CARRY/train.tsv")
    avg=$(( $(cut -f2 "$CARRY/train.tsv" | xargs stat -c %s | awk '{s+=$1} END {print s}') / n * 4 / 5 ))
    if [ "$avail" -le $(( 20 * avg )) ]; then
        echo "only $avail bytes left for crops: too few to train on" >&2
        exit 1
    fi
    want=$(( avail / avg ))
    awk -F'\t' -v want="$want" -v n="$n" 'int(NR * want / n) > int((NR - 1) * want / n)' \
        "$CARRY/train.tsv" |
        while IFS=$'\t' read -r source f; do
            local name
            name=$(basename "${f%.*}").webp
            case $f in
                *.webp) cp "$f" "$CARRY/data/$name" ;;
                *) cwebp -quiet -lossless -z 3 "$f" -o "$CARRY/data/$name" ;;
            esac
            printf '%s\t%s\n' "$name" "$source"
        done > "$CARRY/sources.tsv"
    # The estimate of 4/5 may miss: drop the last files until the copy fits.
    while (( $(du -sb "$CARRY" | cut -f1) + tracked > budget )); do
        rm "$(ls "$CARRY"/data/*.webp | tail -1)"
    done
    # The manifest of the files that went (the last loop may have dropped a few).
    python3 - "$CARRY" <<'PY'
import json, os, sys
carry = sys.argv[1]
kept = set(os.listdir(os.path.join(carry, "data")))
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(carry, "sources.tsv"))]
json.dump([{"file": f, "source_id": s} for f, s in rows if f in kept],
          open(os.path.join(carry, "data", "manifest.json"), "w"))
PY
    echo "$(ls "$CARRY/data" | grep -c webp) crops (of $n training files), tracked files $((tracked / 1048576)) MiB"
    du -sh "$CARRY"
}

remote() {
    local minutes=$1
    shift
    cat <<EOF
for f in $CARRY/gl/*.deb; do dpkg -x \$f /; done; ldconfig;
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json;
xz -dc $CARRY/lic.xz > /tmp/lic && chmod +x /tmp/lic;
R=\$( [ -f $CARRY/run/checkpoint.licm ] && echo "--resume --weights-only" );
timeout -s INT $(( minutes * 60 + 60 )) /tmp/lic train --backend wgpu --data $CARRY/data --run $CARRY/run \$R --minutes $minutes --checkpoint-minutes 3 $*;
cp $CARRY/run/checkpoint.licm $CARRY/run/model.licm $CARRY/run/log.jsonl \$OUT/
EOF
}

unpack() {
    local files=$1 run_dir=$2
    mkdir -p "$run_dir"
    cp "$files/checkpoint.licm" "$run_dir/checkpoint.licm"
    cp "$files/model.licm" "$run_dir/model.licm"
    cat "$files/log.jsonl" >> "$run_dir/log.jsonl"
    echo "resume here with: lic train --data ../shared/datasets/train ../shared/datasets/train2 --run $run_dir --resume --weights-only --minutes M"
}

case "${1:-}" in
    pack) pack "${2:?RUN_DIR}" ;;
    remote) shift; remote "$@" ;;
    unpack) unpack "${2:?FILES_DIR}" "${3:?RUN_DIR}" ;;
    *) sed -n 2,14p "$0"; exit 2 ;;
esac
