#!/usr/bin/env bash
# Vendors the third-party browser code of the consoles (consoles/static/vendor/) from npm at
# pinned versions, with its licence. The files are committed: pages never load code from a
# CDN. Re-run after changing a version below; review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
# name@version  file-in-package  destination
PACKAGES=(
  "jsqr@1.4.0 dist/jsQR.js jsQR.js"
)
dest=consoles/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
for entry in "${PACKAGES[@]}"; do
  read -r spec file target <<<"$entry"
  name=${spec%@*}
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls "$work"/"$name"-*.tgz)
  mkdir -p "$work/$name" && tar -xzf "$tarball" -C "$work/$name"
  cp "$work/$name/package/$file" "$dest/$target"
  cp "$work/$name/package/LICENSE"* "$dest/$target.LICENSE.txt"
  echo "$spec $(sha256sum "$dest/$target" | cut -d' ' -f1)  $target" >>"$work/versions"
done
sort "$work/versions" >"$dest/VERSIONS"
