#!/usr/bin/env bash
# How close `lic encode --target-bpp` / `--target-psnr` land on Kodak, and in how many trial
# encodes: one line per image, then the summary docs/RESULTS.md quotes.
#   scripts/target-accuracy.sh [BPP] [PSNR_DB]      (defaults 0.5 and 29)
set -euo pipefail
cd "$(dirname "$0")/.."
bpp=${1:-0.5}
psnr=${2:-29}
lic=${LIC:-target/release/lic}
kodak=../shared/datasets/kodak
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for img in "$kodak"/kodim*.png; do
    name=$(basename "$img" .png)
    for target in "--target-bpp $bpp" "--target-psnr $psnr"; do
        # shellcheck disable=SC2086
        out=$("$lic" encode "$img" -o "$tmp/x.lic" --force --metrics $target 2>&1) || {
            echo "$name ${target%% *} unreachable: $(echo "$out" | tail -1)"
            continue
        }
        trials=$(echo "$out" | sed -n 's/.*after \([0-9]*\) trial.*/\1/p')
        got_bpp=$(echo "$out" | sed -n 's/.* \([0-9.]*\) bpp .*/\1/p')
        got_psnr=$(echo "$out" | sed -n 's/.*PSNR \([0-9.]*\) dB.*/\1/p')
        q=$(echo "$out" | sed -n 's/.*  q \([0-9.]*\) .*/\1/p')
        echo "$name ${target%% *} q $q bpp $got_bpp psnr $got_psnr trials $trials"
    done
done | tee "$tmp/lines"
awk -v bpp="$bpp" -v psnr="$psnr" '
    $3 == "unreachable:" { if ($2 == "--target-bpp") ub++; else up++; next }
    $2 == "--target-bpp" { nb++; db = bpp - $6; sb += db; if (db > mb) mb = db; tb += $10;
                           if ($6 > bpp) over++ }
    $2 == "--target-psnr" { np++; dp = $8 - psnr; sp += dp; if (dp > mp) mp = dp; tp += $10;
                            if ($8 < psnr) under++ }
    END {
        printf "target %s bpp: %d images met (%d out of reach), mean %.4f bpp below the target (largest gap %.4f), %d over it, %.1f trial encodes on average\n", bpp, nb, ub, sb / nb, mb, over, tb / nb
        printf "target %s dB: %d images met (%d out of reach), mean %.3f dB above the target (largest %.3f), %d under it, %.1f trial encodes on average\n", psnr, np, up, sp / np, mp, under, tp / np
    }' "$tmp/lines"
