#!/usr/bin/env bash
# Counts the public items of a workspace crate: every name an application can reach from the
# crate root (modules, types, functions, constants, re-exported foreign items), with the
# public fields, enum variants and inherent methods of its types, each counted once where it
# is first reached (top-level modules in file order). Reads rustdoc's JSON output, which needs
# the nightly toolchain; prints the total, the count per top-level module and per kind.
# docs/STRUCTURE.md quotes it for lic-codec.
#   scripts/public-items.sh lic-codec [cargo doc options, e.g. --features wgpu]
set -euo pipefail
cd "$(dirname "$0")/.."
crate="$1"
shift
target="${CARGO_TARGET_DIR:-target}"
RUSTDOCFLAGS="-Z unstable-options --output-format json" \
    cargo +nightly doc -p "$crate" --no-deps --lib "$@" >&2
python3 - "$target/doc/${crate//-/_}.json" <<'PY'
import collections, json, sys

doc = json.load(open(sys.argv[1]))
index = doc["index"]
seen, counts, by_module = set(), collections.Counter(), collections.Counter()
module = ["(top level)"]


def kind_of(item):
    inner = item["inner"]
    return next(iter(inner)) if isinstance(inner, dict) else inner


def visit(item_id, kind_hint=None):
    if item_id is None or item_id in seen:
        return
    seen.add(item_id)
    item = index.get(str(item_id))
    if item is None:  # a foreign item re-exported under this crate's name
        counts["re-exported foreign item"] += 1
        by_module[module[-1]] += 1
        return
    kind = kind_of(item)
    inner = item["inner"][kind] if isinstance(item["inner"], dict) else None
    if kind == "use":
        if inner.get("is_glob"):
            counts["glob re-export"] += 1
        visit(inner.get("id"), inner.get("name"))
        return
    counts[kind] += 1
    by_module[module[-1]] += 1
    if kind == "module":
        top = item_id == doc["root"]
        for child in inner["items"]:
            child_item = index.get(str(child))
            nested = top and child_item is not None and kind_of(child_item) == "module"
            if nested:
                module.append(child_item["name"])
            visit(child)
            if nested:
                module.pop()
    elif kind == "struct":
        fields = inner["kind"].get("plain", {}).get("fields", []) if isinstance(inner["kind"], dict) else []
        for f in fields:
            visit(f)
        for impl in inner.get("impls", []):
            visit_impl(impl)
    elif kind == "enum":
        for v in inner["variants"]:
            visit(v)
        for impl in inner.get("impls", []):
            visit_impl(impl)
    elif kind == "variant":
        k = inner["kind"]
        if isinstance(k, dict):
            for fields in k.values():
                for f in (fields.get("fields", []) if isinstance(fields, dict) else fields):
                    visit(f)
    elif kind == "trait":
        for child in inner["items"]:
            visit(child)


def visit_impl(impl_id):
    impl = index[str(impl_id)]["inner"]["impl"]
    if impl.get("trait") is None:  # inherent methods only; trait impls add no names
        for child in impl["items"]:
            if index[str(child)].get("visibility") == "public":
                visit(child)


visit(doc["root"])
print(sum(counts.values()), dict(sorted(by_module.items())), dict(sorted(counts.items())))
PY
