#!/usr/bin/env bash
# Re-vendor the front-end packages the pages use (YASGUI for /sparql, Chart.js for the bar charts).
# Run by hand when upgrading; the copied files are committed, so running the service or CI needs no npm.
# Each package is fetched with `npm pack` into a temporary folder (no node_modules, no install scripts run).
set -euo pipefail
cd "$(dirname "$0")"
YASGUI=4.6.2
CHARTJS=4.6.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@zazuko/yasgui@$YASGUI" "chart.js@$CHARTJS" >/dev/null)
for tgz in "$tmp"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
y="$tmp/zazuko-yasgui-$YASGUI/package" c="$tmp/chart.js-$CHARTJS/package"
mkdir -p yasgui chartjs
cp "$y/build/yasgui.min.js" "$y/build/yasgui.min.css" "$y/package.json" yasgui/
cp "$c/dist/chart.umd.min.js" "$c/LICENSE.md" "$c/package.json" chartjs/
# @zazuko/yasgui ships no licence file; its package.json says MIT: write the MIT text with the holders named upstream.
cat > yasgui/LICENSE <<'MIT'
@zazuko/yasgui (https://github.com/zazuko/Yasgui, forked from TriplyDB/Yasgui): MIT licence, as declared in package.json.

The MIT License

Copyright (c) Triply B.V. and Zazuko GmbH and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation the
rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit
persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the
Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
MIT
(cd .. && sha256sum vendor/yasgui/yasgui.min.js vendor/yasgui/yasgui.min.css vendor/chartjs/chart.umd.min.js) > SHA256SUMS
echo "vendored @zazuko/yasgui@$YASGUI and chart.js@$CHARTJS"
