#!/bin/sh
# The README's Python example (its first ```python block) runs against the
# built library in a temporary directory and writes Verilog.
# usage: readme-python.sh PYTHON README   (SPARSELUT_LIB and PYTHONPATH set by meson)
set -eu
python=$1 readme=$2
"$python" -c 'import numpy' 2>/dev/null || { echo "numpy not installed: skipping"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```python[ \t]*$/ && !done { inside = 1; next }
     /^```/ && inside { inside = 0; done = 1; next }
     inside { print }' "$readme" > "$tmp/example.py"
[ -s "$tmp/example.py" ] || { echo "no \`\`\`python block in $readme"; exit 1; }
(cd "$tmp" && "$python" example.py)
ls "$tmp/hw" | grep -q '\.v$' || { echo "the example wrote no Verilog into hw/"; exit 1; }
echo "ok: README Python example ran and wrote $(ls "$tmp/hw" | wc -l) files"
