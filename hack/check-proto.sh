#!/usr/bin/env bash
# Fails when the committed generated code differs from what the .proto files
# and the pinned generators produce (run by make test).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gen_proto "$tmp"

status=0
for proto in "${PROTO_FILES[@]}"; do
	base="${proto%.proto}"
	for gen in "$base.pb.go" "${base}_grpc.pb.go"; do
		if [ ! -f "$ROOT/$gen" ]; then
			echo "check-proto: $gen is missing; run 'make proto' and commit the result" >&2
			status=1
		elif ! diff -u "$ROOT/$gen" "$tmp/$gen" >"$tmp/diff" 2>&1; then
			echo "check-proto: $gen is stale (differs from what $proto generates); run 'make proto' and commit the result:" >&2
			head -n 40 "$tmp/diff" >&2
			status=1
		fi
	done
done
[ "$status" -eq 0 ] && echo "check-proto: generated code is up to date"
exit "$status"
