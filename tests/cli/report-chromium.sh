#!/bin/bash
# `sparselut report` looked at in a real browser: headless Chromium renders the
# report of the tiny sweep; the page's own check (every SVG has a size and
# content, no uncaught script error) must say "ok", the screenshot must be a
# PNG, and Chromium must log no console error. Skipped (77) without chromium.
# Usage: report-chromium.sh SPARSELUT PYTHON [SCREENSHOT.png]
set -u
EXE=$(realpath "$1")
PY=$2
SHOT=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/sweep-common.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium not installed (Debian chromium): skipping"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sweep_fixture "$T"
cd "$T" || exit 1
"$EXE" sweep tiny.ini --jobs 2 2>sweep.log || { cat sweep.log; fail "sweep failed"; }
"$EXE" report tiny.out --out page.html --csv page.csv --title "tiny sweep" ||
    fail "report failed"
[ "$(wc -l <page.csv)" = 9 ] || fail "CSV should have 8 rows"
# self-contained: no URL but the SVG namespace, no external scripts or styles
if grep -o 'https\?://[^" ]*' page.html | grep -v '^http://www.w3.org/2000/svg$' ||
    grep -E '<(script|img|link)[^>]* (src|href)=' page.html; then
    fail "the page refers to the network"
fi

# Chromium as root needs --no-sandbox; a private profile keeps runs independent.
browse() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$T/profile" --enable-logging=stderr --v=0 "$@" "file://$T/page.html"
}
browse --dump-dom >dom.html 2>dom.log || { cat dom.log; fail "chromium --dump-dom failed"; }
grep -q 'data-check="ok"' dom.html || { grep -o 'data-check="[^"]*"' dom.html; fail "page check not ok"; }
browse --window-size=1500,1900 --screenshot="$T/shot.png" >shot.log 2>&1 ||
    { cat shot.log; fail "chromium --screenshot failed"; }
[ "$(head -c 8 shot.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "not a PNG"
[ "$(stat -c %s shot.png)" -gt 20000 ] || fail "screenshot suspiciously small"
if grep -E "Uncaught|CONSOLE\(|console\.error" dom.log shot.log; then
    fail "console errors"
fi
# the check can fail: a page with a script error and an empty figure is not ok
sed -e 's|</main>|<svg id="empty" width="10" height="10"></svg></main><script>noSuchFunction();</script>|' \
    page.html >broken.html
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$T/profile" \
    --enable-logging=stderr --v=0 --dump-dom "file://$T/broken.html" >broken-dom.html 2>broken.log
grep -q 'data-check="error: ' broken-dom.html || { grep -o 'data-check="[^"]*"' broken-dom.html; fail "broken page passed the check"; }
grep -qE "Uncaught|CONSOLE\(" broken.log || fail "chromium's log shows no console error for the broken page"
[ -z "$SHOT" ] || cp shot.png "$SHOT"
echo "report-chromium: page check ok, screenshot $(stat -c %s shot.png) bytes"
