# shellcheck shell=bash
# Shared helpers for the hack/ scripts. Source it; it sets ROOT and the
# pinned tool versions, which live in the Makefile (the single place to bump).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$ROOT/.cache/tools"

makefile_var() {
	sed -n "s/^$1[[:space:]]*:\?=[[:space:]]*//p" "$ROOT/Makefile" | head -n1
}

PROTOC_GEN_GO_VERSION="${PROTOC_GEN_GO_VERSION:-$(makefile_var PROTOC_GEN_GO_VERSION)}"
PROTOC_GEN_GO_GRPC_VERSION="${PROTOC_GEN_GO_GRPC_VERSION:-$(makefile_var PROTOC_GEN_GO_GRPC_VERSION)}"

# tool_version_ok NAME WANT: is .cache/tools/NAME present and at version WANT?
tool_version_ok() {
	local bin="$TOOLS_DIR/$1" want="${2#v}"
	[ -x "$bin" ] || return 1
	"$bin" --version 2>/dev/null | grep -qE "(^|[[:space:]]v?)${want//./\\.}\$"
}

# install_protoc_plugins installs the pinned protoc plugins into .cache/tools
# unless they are there already.
install_protoc_plugins() {
	mkdir -p "$TOOLS_DIR"
	if ! tool_version_ok protoc-gen-go "$PROTOC_GEN_GO_VERSION"; then
		echo "rtd setup: installing protoc-gen-go $PROTOC_GEN_GO_VERSION ..."
		GOBIN="$TOOLS_DIR" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
	fi
	if ! tool_version_ok protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"; then
		echo "rtd setup: installing protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION ..."
		GOBIN="$TOOLS_DIR" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
	fi
}

# The .proto files, relative to ROOT.
PROTO_FILES=(api/driver/v1/driver.proto)

# gen_proto OUTDIR: generate the Go code of every .proto into OUTDIR, laid
# out like the repository (OUTDIR/api/driver/v1/driver.pb.go).
gen_proto() {
	local out="$1"
	command -v protoc >/dev/null || {
		echo "protoc not found: run 'make deps' (or apt-get install protobuf-compiler)" >&2
		return 1
	}
	install_protoc_plugins
	mkdir -p "$out"
	(cd "$ROOT" && protoc \
		-I . \
		--plugin=protoc-gen-go="$TOOLS_DIR/protoc-gen-go" \
		--plugin=protoc-gen-go-grpc="$TOOLS_DIR/protoc-gen-go-grpc" \
		--go_out="$out" --go_opt=paths=source_relative \
		--go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
		"${PROTO_FILES[@]}")
}
