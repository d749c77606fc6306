#!/usr/bin/env bash
# Build pocketsphinx from its PyPI source release with Jiayi's patches (third_party/pocketsphinx/)
# and install it into a virtualenv, replacing the PyPI wheel. Run by `make venv`
# (PATCHED_POCKETSPHINX=1, the default); on any failure the wheel already installed stays, which
# decodes the same sentences with more CPU (docs/benchmarks/speech.md, "Round 19 — rtf19").
#
#   scripts/pocketsphinx-patched.sh .venv/bin/pip
#
# Needs a C compiler (Debian: build-essential) and `patch`; CMake and Ninja come from PyPI when the
# machine has none (scikit-build-core). About 1 min of CPU on the 2-core machine.
set -euo pipefail

PIP=${1:?usage: $0 PATH/TO/pip}
VERSION=5.1.1                  # the patch is for this release's src/fsg_history.[ch]
LOCAL=jiayi.1                  # the installed version reads 5.1.1+jiayi.1 (pocketsphinx_engine.patched_build)
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

installed=$({ "$PIP" show pocketsphinx 2>/dev/null || true; } | sed -n "s/^Version: //p")
if [ "$installed" = "$VERSION+$LOCAL" ]; then
  echo "pocketsphinx $installed (patched) already installed"
  exit 0
fi
"$PIP" download --quiet --no-deps --no-binary pocketsphinx "pocketsphinx==$VERSION" -d "$WORK"
tar xzf "$WORK/pocketsphinx-$VERSION.tar.gz" -C "$WORK"
SRC="$WORK/pocketsphinx-$VERSION"
for p in "$HERE"/third_party/pocketsphinx/*.patch; do
  patch --quiet --forward -d "$SRC" -p1 < "$p"
done
sed -i "s/^version = \"$VERSION\"$/version = \"$VERSION+$LOCAL\"/" "$SRC/pyproject.toml"
grep -q "^version = \"$VERSION+$LOCAL\"$" "$SRC/pyproject.toml"
"$PIP" install --quiet --no-deps "$SRC"
echo "pocketsphinx $VERSION+$LOCAL (patched) installed"
