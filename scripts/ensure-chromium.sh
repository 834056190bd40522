#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright; never
# `playwright install`. Installs it with apt when missing (as root, or through sudo), together
# with a CJK font so the Chinese labels in the screenshots are legible.
set -euo pipefail
CHROMIUM=${C360_CHROMIUM:-/usr/bin/chromium}
packages=()
[ -x "$CHROMIUM" ] || packages+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || packages+=(fonts-noto-cjk)
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages for the browser tests: ${packages[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${packages[@]}"
