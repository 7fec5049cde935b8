#!/usr/bin/env python3
"""Quality ceiling of a linear latent: PSNR of Kodak through the best k-dimensional linear
code of each 16x16 RGB block (PCA fitted on every third training file), for the latent
widths M of lic's architectures (one latent position holds M values per 16x16 block).

A trained nonlinear transform does better than PCA at low rates, but at high rates the
unquantised latent's dimension bounds what the synthesis can give back; docs/MODEL.md quotes
this script's output. Needs numpy and Pillow (`pip install numpy pillow`).

    python3 scripts/linear-ceiling.py ../shared/datasets/train ../shared/datasets/kodak [CROP]

With CROP, each test image's centre CROP x CROP crop (as `lic train`'s validation and the
`synthesis_ceiling` example cut it) instead of the whole image, and a line per image.
"""

import glob
import sys

import numpy as np
from PIL import Image

BLOCK = 16
WIDTHS = [96, 128, 192, 256, 320]


def blocks(path, crop=None):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255
    if crop:
        top, left = (a.shape[0] - crop) // 2, (a.shape[1] - crop) // 2
        a = a[top:top + crop, left:left + crop]
    h, w = a.shape[0] // BLOCK * BLOCK, a.shape[1] // BLOCK * BLOCK
    a = a[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK, 3)
    return a.transpose(0, 2, 1, 3, 4).reshape(-1, BLOCK * BLOCK * 3)


def main():
    train_dir, test_dir = sys.argv[1], sys.argv[2]
    crop = int(sys.argv[3]) if len(sys.argv) > 3 else None
    train = sorted(glob.glob(f"{train_dir}/*.png"))[::3]
    x = np.concatenate([blocks(f) for f in train])
    mean = x.mean(0)
    _, vectors = np.linalg.eigh(np.cov((x - mean).T))
    vectors = vectors[:, ::-1]
    print(f"PCA of {len(x)} blocks from {len(train)} training files")
    psnr = {k: [] for k in WIDTHS}
    for f in sorted(glob.glob(f"{test_dir}/*.png")):
        b = blocks(f, crop)
        for k in WIDTHS:
            p = vectors[:, :k]
            r = np.clip((b - mean) @ p @ p.T + mean, 0, 1)
            psnr[k].append(10 * np.log10(1 / ((r - b) ** 2).mean()))
        if crop:
            print(f"{f} centre {crop}: " + ", ".join(f"M {k} {psnr[k][-1]:.2f} dB" for k in WIDTHS))
    n = len(psnr[WIDTHS[0]])
    for k in WIDTHS:
        print(f"M {k:3}: mean PSNR {np.mean(psnr[k]):.2f} dB over {n} images "
              f"(min {np.min(psnr[k]):.2f}, max {np.max(psnr[k]):.2f})")


if __name__ == "__main__":
    main()
