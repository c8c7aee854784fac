#!/usr/bin/env bash
# Refresh freight's offline price catalog from LiteLLM's wheel on PyPI.
#
# Usage: scripts/refresh-prices.sh [LITELLM_VERSION]
#
# Without an argument, the newest stable version reported by
# `pip index versions litellm` is used. litellm 1.107.0 (a compromised upload)
# is always refused. The wheel is only downloaded and read as a zip archive:
# litellm is never installed, imported or run, and no sdist is ever built.
#
# Writes, under crates/freight-core/data/:
#   model_prices_and_context_window.json  byte-for-byte copy of
#       litellm/model_prices_and_context_window_backup.json from the wheel
#   LITELLM_LICENSE                       the wheel's dist-info licence file
#   README.md                             provenance (version, path, sha256, date)
# and prints what changed. When the JSON and licence are identical to what is
# already there, nothing is rewritten.
#
# Environment: PIP (default: "python3 -m pip"), PYTHON (default: python3),
# PRICES_DATE (date written to README.md, default: today, UTC).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
read -r -a PIP_CMD <<<"${PIP:-$PYTHON -m pip}"
BLOCKED_VERSIONS=("1.107.0")
JSON_IN_WHEEL="litellm/model_prices_and_context_window_backup.json"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/crates/freight-core/data"
json_out="$data/model_prices_and_context_window.json"
license_out="$data/LITELLM_LICENSE"
readme_out="$data/README.md"

die() { echo "refresh-prices: $*" >&2; exit 1; }

is_blocked() {
    local v
    for v in "${BLOCKED_VERSIONS[@]}"; do
        [[ "$1" == "$v" ]] && return 0
    done
    return 1
}

if [[ $# -gt 1 ]]; then
    die "usage: $0 [LITELLM_VERSION]"
fi

if [[ $# -eq 1 ]]; then
    version="$1"
else
    index_out="$("${PIP_CMD[@]}" index versions litellm 2>/dev/null)" \
        || die "'pip index versions litellm' failed"
    # "Available versions: a, b, c" lists newest first and (without --pre)
    # only final releases; take the first one that is not blocked.
    version="$(
        printf '%s\n' "$index_out" \
            | sed -n 's/^Available versions: //p' \
            | tr ',' '\n' | tr -d ' ' \
            | while read -r v; do is_blocked "$v" || echo "$v"; done \
            | head -n 1 || true
    )"
    [[ -n "$version" ]] || die "could not find a litellm version in pip's index output"
fi

[[ "$version" =~ ^[0-9]+(\.[0-9]+)*(\.post[0-9]+)?$ ]] \
    || die "'$version' is not a plain release version"
if is_blocked "$version"; then
    die "litellm $version is refused (compromised upload); pick another version"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "refresh-prices: downloading litellm==$version (wheel only, no deps)"
"${PIP_CMD[@]}" download --quiet --no-deps --only-binary=:all: \
    --dest "$tmp" "litellm==$version" \
    || die "pip download of litellm==$version failed"

shopt -s nullglob
wheels=("$tmp"/litellm-*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || die "expected one litellm wheel, found ${#wheels[@]}"
wheel="${wheels[0]}"

# Extract the price JSON and the licence, checking both against the wheel's
# RECORD hashes. Reads the zip only; nothing from the wheel is executed.
"$PYTHON" - "$wheel" "$version" "$JSON_IN_WHEEL" "$tmp" <<'PY'
import base64, csv, hashlib, io, json, sys, zipfile

wheel, version, json_path, out = sys.argv[1:5]
z = zipfile.ZipFile(wheel)
names = z.namelist()
dist_infos = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
if len(dist_infos) != 1:
    sys.exit(f"expected one .dist-info in the wheel, found {sorted(dist_infos)}")
dist_info = dist_infos.pop()
meta = z.read(f"{dist_info}/METADATA").decode("utf-8")
meta_version = next((l.split(":", 1)[1].strip() for l in meta.splitlines() if l.startswith("Version:")), None)
if meta_version != version:
    sys.exit(f"wheel METADATA says version {meta_version!r}, expected {version!r}")

candidates = [f"{dist_info}/licenses/LICENSE", f"{dist_info}/LICENSE", f"{dist_info}/LICENSE.txt"]
license_path = next((c for c in candidates if c in names), None)
if license_path is None:
    sys.exit(f"no licence file found in {dist_info} (looked for {candidates})")
if json_path not in names:
    sys.exit(f"{json_path} is not in the wheel")

record = {}
for row in csv.reader(io.StringIO(z.read(f"{dist_info}/RECORD").decode("utf-8"))):
    if len(row) >= 2 and row[1]:
        record[row[0]] = row[1]

def checked(path):
    data = z.read(path)
    want = record.get(path)
    if want is None:
        sys.exit(f"{path} has no hash in RECORD")
    algo, _, digest = want.partition("=")
    got = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
    if got != digest:
        sys.exit(f"{path}: {algo} {got} does not match RECORD {digest}")
    return data

prices = checked(json_path)
json.loads(prices)  # must parse
with open(f"{out}/prices.json", "wb") as f:
    f.write(prices)
with open(f"{out}/LICENSE", "wb") as f:
    f.write(checked(license_path))
with open(f"{out}/license_path", "w") as f:
    f.write(license_path)
PY

license_in_wheel="$(cat "$tmp/license_path")"
new_sha="$(sha256sum "$tmp/prices.json" | cut -d' ' -f1)"
new_size="$(wc -c <"$tmp/prices.json" | tr -d ' ')"

# Summarise entries before/after (top-level keys; LiteLLM's "sample_spec"
# documentation entry is counted separately).
summary="$("$PYTHON" - "$json_out" "$tmp/prices.json" <<'PY'
import json, os, sys

old_path, new_path = sys.argv[1:3]
def load(p):
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return json.loads(f.read())

old, new = load(old_path), load(new_path)
def count(d):
    return sum(1 for k in d if k != "sample_spec")
if old is None:
    print(f"entries before: (no file)")
else:
    print(f"entries before: {count(old)} (plus sample_spec)" if "sample_spec" in old else f"entries before: {count(old)}")
print(f"entries after:  {count(new)} (plus sample_spec)" if "sample_spec" in new else f"entries after:  {count(new)}")
if old is not None:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(new) & set(old) if new[k] != old[k])
    print(f"added: {len(added)}, removed: {len(removed)}, changed: {len(changed)}")
    for label, keys in (("added", added), ("removed", removed), ("changed", changed)):
        for k in keys[:20]:
            print(f"  {label}: {k}")
        if len(keys) > 20:
            print(f"  ... and {len(keys) - 20} more {label}")
PY
)"

old_version=""
if [[ -f "$readme_out" ]]; then
    old_version="$(sed -n 's/^- PyPI package: litellm \([^ ]*\).*/\1/p' "$readme_out" | head -n 1)"
fi

if [[ -f "$json_out" && -f "$license_out" && -f "$readme_out" ]] \
    && cmp -s "$tmp/prices.json" "$json_out" \
    && cmp -s "$tmp/LICENSE" "$license_out" \
    && [[ "$old_version" == "$version" ]]; then
    echo "refresh-prices: litellm $version: price file and licence unchanged (sha256 $new_sha); nothing rewritten"
    echo "$summary"
    exit 0
fi

mkdir -p "$data"
cp "$tmp/prices.json" "$json_out"
cp "$tmp/LICENSE" "$license_out"

date_str="${PRICES_DATE:-$(date -u +%F)}"
cat >"$readme_out" <<EOF
# Offline model price catalog

\`model_prices_and_context_window.json\` is LiteLLM's model price and
context-window table, copied byte-for-byte from the LiteLLM wheel on PyPI.
freight reads the prices in it as-is: nothing in this file is edited, rounded,
re-keyed or reformatted here.

## Source

- PyPI package: litellm $version
- Wheel: \`$(basename "$wheel")\`
- File inside the wheel: \`$JSON_IN_WHEEL\`
- sha256 of \`model_prices_and_context_window.json\`: \`$new_sha\`
- Size: $new_size bytes
- Retrieved: $date_str

## Licence

\`LITELLM_LICENSE\` is the licence file shipped in the same wheel
(\`$license_in_wheel\`), kept verbatim. It puts everything outside LiteLLM's
\`enterprise/\` directory, including this price file, under the MIT licence
(copyright Berri AI).

## Refreshing

Run \`scripts/refresh-prices.sh [VERSION]\` from the repository root. Without a
version it takes the newest one that \`pip index versions litellm\` reports; it
refuses litellm 1.107.0, a compromised upload. It only downloads the wheel
(\`pip download --no-deps --only-binary=:all:\`) and reads it as a zip file;
litellm is never installed or run. It checks the files against the wheel's
RECORD hashes, rewrites this README and prints the entry counts before and
after.
EOF

if [[ -n "$old_version" && "$old_version" != "$version" ]]; then
    echo "refresh-prices: litellm $old_version -> $version"
else
    echo "refresh-prices: litellm $version"
fi
echo "refresh-prices: wrote $json_out ($new_size bytes, sha256 $new_sha)"
echo "refresh-prices: wrote $license_out and $readme_out"
echo "$summary"
