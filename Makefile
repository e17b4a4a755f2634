# rtd build system. `make demo` from a fresh Debian 12 (as root) installs what
# is missing, builds everything and runs a container; `make test` is the full
# gate run by .ci/run.

# Pinned code generators (hack/lib.sh reads these lines: keep the format).
# protoc-gen-go follows google.golang.org/protobuf in go.mod.
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2

GO ?= go
BIN := bin
TEST_TIMEOUT ?= 30m

# Every command under cmd/ is built into bin/: cmd/rtd is the CLI,
# cmd/rtd-driver-* are driver plugins, cmd/rtd-monitor and
# cmd/rtd-linux-monitor their monitors. rtd-driver-linux and rtd-linux-monitor
# need cgo (libcontainer's nsenter) and seccomp; all others are built static,
# without cgo.
CMDS := $(notdir $(wildcard cmd/*))
STATIC_CMDS := $(filter-out rtd rtd-driver-linux rtd-linux-monitor,$(CMDS))

.PHONY: all deps guest-kernel build demo test bench bench-runc runtime-tools proto check-proto clean $(addprefix $(BIN)/,$(CMDS)) $(BIN)/rtd-vm-agent

all: build

deps:
	@hack/setup.sh

# rtd's microVM guest kernel (make test builds it; cached in /var/cache/rtd/guest-kernel).
guest-kernel:
	@hack/guest-kernel.sh

# Links to the shim for runtime_type "io.containerd.rtd-DRIVER.v2": the shim
# takes the driver from its name (docs/containerd.md, Sandbox API).
SHIM_LINKS := $(foreach d,linux gvisor vm,$(BIN)/containerd-shim-rtd-$(d)-v2)

build: $(addprefix $(BIN)/,$(CMDS)) $(BIN)/rtd-vm-agent $(SHIM_LINKS)

$(SHIM_LINKS): $(BIN)/containerd-shim-rtd-v2
	ln -sf containerd-shim-rtd-v2 $@

# go build is incremental, so the binaries are always (cheaply) rebuilt.
$(BIN)/rtd:
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/rtd

$(BIN)/rtd-driver-linux:
	CGO_ENABLED=1 $(GO) build -tags seccomp -o $@ ./cmd/rtd-driver-linux

# The linux driver's monitor start half and libcontainer init: cgo (nsenter)
# and seccomp, like the driver.
$(BIN)/rtd-linux-monitor:
	CGO_ENABLED=1 $(GO) build -tags seccomp -o $@ ./cmd/rtd-linux-monitor

# The vm driver's guest agent runs libcontainer inside the guest: cgo,
# linked statically (it is the initramfs's /init).
$(BIN)/rtd-vm-agent:
	CGO_ENABLED=1 $(GO) build -tags seccomp,osusergo,netgo -ldflags '-s -w' -o $@ ./drivers/vm/cmd/rtd-vm-agent

$(addprefix $(BIN)/,$(STATIC_CMDS)): $(BIN)/%:
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/$*

# Sequenced in the recipe, so that it also holds under make -j.
demo:
	@hack/setup.sh
	@$(MAKE) --no-print-directory build
	@test -x $(BIN)/rtd || { echo "make demo: $(BIN)/rtd was not built (is cmd/rtd there?)" >&2; exit 1; }
	$(BIN)/rtd run --rm hello

test:
	@GO="$(GO)" TEST_TIMEOUT="$(TEST_TIMEOUT)" MAKE="$(MAKE)" hack/test.sh

# Benchmarks against the bare backends (not part of make test): writes
# bench/results.json and bench/results.md (docs/performance.md). Pass runner
# flags in BENCH_FLAGS, e.g. BENCH_FLAGS='-run linux -n 31'.
bench: build
	@command -v containerd >/dev/null || { echo "rtd bench: installing containerd (for the ctr comparison) ..."; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd >/dev/null; }
	CGO_ENABLED=1 $(GO) build -o $(BIN)/lcrun ./bench/cmd/lcrun
	$(GO) run ./bench/cmd/rtd-bench -bin $(BIN) -out bench $(BENCH_FLAGS)

# rtd-runc against runc under podman and docker (same engine, same run;
# docs/runc.md), as root: a markdown table on stdout, JSON in bin/.
bench-runc: build
	@hack/runc-engines.sh
	$(GO) run ./bench/cmd/rtd-runc-bench -bin $(BIN) -out $(CURDIR)/$(BIN)/runc-bench.json $(BENCH_FLAGS)

# OCI runtime-tools' whole validation suite against Debian's runc and
# rtd-runc (linux gated as in make test; gvisor and vm reported only), as
# root: the comparison goes to bin/runtime-tools.md, each executable's TAP
# to bin/runtime-tools-tap/RUNTIME/ as it finishes (docs/runc.md).
runtime-tools:
	@mkdir -p $(BIN)
	RTD_RUNTIME_TOOLS=all RTD_RUNTIME_TOOLS_DRIVERS=gvisor,vm RTD_RUNTIME_TOOLS_REPORT=$(CURDIR)/$(BIN)/runtime-tools.md \
		RTD_RUNTIME_TOOLS_TAPDIR=$(CURDIR)/$(BIN)/runtime-tools-tap \
		$(GO) test -count=1 -timeout 120m -run 'TestRuntimeTools$$' -v ./tests/runc

proto:
	@hack/gen-proto.sh

check-proto:
	@hack/check-proto.sh

clean:
	rm -rf $(BIN)
