#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real: chromium renders report.html (through
# playwright-core), prometheus brings promtool (it checks and unit-tests the generated rules),
# espeak-ng makes real speech for the speech client's tests. Nothing is installed that is there.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "the tests need ${missing[*]} (Debian package names); install them, then run npm test" >&2
  exit 1
fi
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
echo "installing ${missing[*]} with apt-get" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
