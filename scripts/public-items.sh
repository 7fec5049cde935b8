#!/usr/bin/env bash
# Counts the public items of a workspace crate as rustdoc sees them: every item, method,
# associated constant, field and enum variant documented from the crate root (rustdoc's JSON
# output, which needs the nightly toolchain), with its features as given. Prints the total
# and the count per kind. docs/STRUCTURE.md quotes it for lic-codec.
#   scripts/public-items.sh lic-codec [--features F] [--no-default-features]
set -euo pipefail
cd "$(dirname "$0")/.."
crate="$1"
shift
target="${CARGO_TARGET_DIR:-target}"
RUSTDOCFLAGS="-Z unstable-options --output-format json" \
    cargo +nightly doc -p "$crate" --no-deps --lib "$@" >/dev/null 2>&1 ||
    { echo "rustdoc failed (is the nightly toolchain installed?)" >&2; exit 1; }
python3 - "$target/doc/${crate//-/_}.json" <<'PY'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
root_crate = doc["index"][str(doc["root"])]["crate_id"]
counts = collections.Counter()
for item in doc["index"].values():
    # Items of this crate only (re-exported foreign items are listed under their own crate);
    # rustdoc's JSON holds the public, documented items unless asked for private ones.
    if item["crate_id"] != root_crate or item.get("visibility") not in ("public", "default"):
        continue
    kind = next(iter(item["inner"])) if isinstance(item["inner"], dict) else item["inner"]
    if kind in ("impl", "use", "module") and kind != "module":
        continue
    counts[kind] += 1
counts.pop("impl", None)
print(sum(counts.values()), dict(sorted(counts.items())))
PY
