#!/usr/bin/env bash
# Regenerates the committed Go code of the wire contract (make proto).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
gen_proto "$ROOT"
echo "rtd proto: regenerated ${PROTO_FILES[*]}"
