#!/bin/sh
# Real Ceph object gateway for the integration tests (tests/fixtures/ceph/cluster.py):
# one mon, one memstore OSD and radosgw from Debian. Installs only when a binary is missing.
set -eu

missing=""
for binary in monmaptool ceph-mon ceph-osd ceph radosgw radosgw-admin; do
    command -v "$binary" >/dev/null 2>&1 || missing="$missing $binary"
done

if [ -z "$missing" ]; then
    echo "ceph: already installed ($(ceph --version 2>/dev/null | cut -d' ' -f1-3))"
    exit 0
fi

echo "ceph: missing$missing; installing ceph-mon ceph-osd radosgw ceph-common"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    ceph-mon ceph-osd radosgw ceph-common
