#!/usr/bin/env bash
# Installs Debian's Chromium (idempotent) for the browser tests: the SDK in a real headless
# browser and Segment's and RudderStack's browser libraries against the collector. Browser
# downloads by test tools (playwright install, puppeteer) do not work on these machines, so the
# tests drive this system browser with playwright-core. Prints the browser's path.
PART=chromium
source "$(dirname "$0")/lib.sh"

bin="${XP_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$bin" ]]; then
  apt_install "Chromium" chromium
fi
[[ -x "$bin" ]] || die "$bin is missing after installing chromium"
echo "$bin"
