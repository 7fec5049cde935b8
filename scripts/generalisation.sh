#!/usr/bin/env bash
# How much better lic knows its training photos than photos it never saw (issue
# "Generalisation"): lic's BD-rate against JPEG (libjpeg-turbo, measured live) on
#   (a) training photos: one crop each of N training source photos, spread evenly;
#   (b) held-out photos: one crop each of the N held-out source photos (`lic split`);
#   (c) Kodak (the test set).
# A model that generalises shows about the same figure on (b) and (c), and (a) not far
# ahead of them.
#
#   scripts/generalisation.sh [MODEL.licm] [OUT_DIR]
#
# MODEL defaults to the embedded model; OUT_DIR (default target/generalisation) receives
# each set's file list and `lic eval` JSON. Needs target/release/lic (cargo build --release
# -p lic-cli) and cjpeg/djpeg (libjpeg-turbo-progs). About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

LIC=${LIC:-target/release/lic}
DATA=(../shared/datasets/train ../shared/datasets/train2)
KODAK=../shared/datasets/kodak
model=${1:-}
out=${2:-target/generalisation}
mkdir -p "$out"
model_arg=()
[ -n "$model" ] && model_arg=(--model "$model")

# The first crop of each source photo (the lists are sorted by source for held-out files,
# by path for training files; either way one file per source).
first_per_source() { awk -F'\t' '!seen[$1]++ {print $2}'; }

"$LIC" split --part held-out "${DATA[@]}" 2> /dev/null | first_per_source > "$out/held-out.txt"
n=$(wc -l < "$out/held-out.txt")
"$LIC" split --part train "${DATA[@]}" 2> /dev/null | first_per_source |
    awk -v want="$n" -v total="$("$LIC" split --part train "${DATA[@]}" 2> /dev/null | first_per_source | wc -l)" \
        'int(NR * want / total) > int((NR - 1) * want / total)' > "$out/train.txt"
ls "$KODAK"/*.png > "$out/kodak.txt"

bd_of() { # the pchip BD-rate column of lic's line against JPEG in `lic eval`'s output
    awk '/^BD-rate of lic/ {t=1; next} t && /JPEG/ {for (i = 1; i <= NF; i++) if ($i ~ /^[-+]?[0-9.]+$/) {print $i; exit}}'
}

printf '%-10s %6s %22s\n' set photos "BD-rate vs JPEG %"
for set in train held-out kodak; do
    mapfile -t files < "$out/$set.txt"
    "$LIC" eval "${files[@]}" "${model_arg[@]}" --codec lic,jpeg --reference none \
        --json "$out/$set.json" --force > "$out/$set.log" 2>&1
    printf '%-10s %6d %22s\n' "$set" "${#files[@]}" "$(bd_of < "$out/$set.log")"
done
