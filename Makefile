# The two commands a new user needs: `make demo` and `make test`. Every target installs what is
# missing first (pinned versions, idempotent, quick when everything is there).
.PHONY: tools system worker bare-object-rs bundle-profile simulator assembler up down reset demo test lint bench status
SHELL := /bin/bash
# A build that fails half-way (wasm-opt after worker-build) must not leave a bundle that looks done.
.DELETE_ON_ERROR:

RUST_SOURCES := $(shell find src actors/src -name '*.rs') Cargo.toml Cargo.lock actors/Cargo.toml

tools:
	@scripts/install-tools.sh

# ffmpeg, espeak-ng and a font from the system's packages (apt), only where missing.
system:
	@scripts/install-system.sh

# The Worker bundle; rebuilt only when a source changed (wrangler's build command calls this too).
# package-lock.json pins wasm-opt (binaryen), which shapes the module as much as the sources do.
worker: actors/build/index.js
actors/build/index.js: $(RUST_SOURCES) scripts/build-worker.sh package-lock.json
	@scripts/install-tools.sh
	@scripts/build-worker.sh

# The bench-only Rust twin of the bare object (bench_bare_object), built like the Worker.
bare-object-rs: e2e/bare-object-rs/build/index.js
e2e/bare-object-rs/build/index.js: e2e/bare-object-rs/src/lib.rs e2e/bare-object-rs/Cargo.toml Cargo.lock scripts/build-worker.sh package-lock.json
	@scripts/install-tools.sh
	@scripts/build-worker.sh e2e/bare-object-rs

# What is big in the Worker's wasm (twiggy, installed pinned when missing); not part of `test`.
bundle-profile: worker
	@scripts/bundle-profile.sh

simulator: tools
	@cargo build --quiet --profile fast -p simulator

assembler: tools system
	@cargo build --quiet --profile fast -p assembler

up: tools system worker simulator assembler
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

# Wipes local Durable Object, D1 and R2 state.
reset: down
	@rm -rf .wrangler/state .stack
	@echo "  local state wiped"

demo: up
	@status=0; cargo run --quiet --profile fast -p e2e --bin demo -- examples/brief.json out || status=$$?; \
	  scripts/stack.sh down; exit $$status

lint: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

# The bundle's size ceiling, native core tests, then end-to-end tests that start their own stack
# on free loopback ports.
test: tools system worker simulator assembler lint
	@scripts/check-bundle-size.sh
	@scripts/install-schemathesis.sh
	@scripts/install-system.sh chromium
	cargo test --workspace

# Native benchmarks of the core, then end-to-end figures on the real stack (each prints ratios
# against a baseline measured in the same run).
bench: tools system worker bare-object-rs simulator assembler
	cargo bench -p studio
	cargo bench -p assembler --bench assembly
	cargo bench -p assembler --bench long_timeline
	cargo run --quiet --profile fast -p e2e --bin bench
	cargo run --quiet --profile fast -p e2e --bin bench_memory
	@scripts/install-schemathesis.sh
	API_FUZZ_CASES=150 cargo test --quiet -p e2e --test api_fuzz
	cargo run --quiet --profile fast -p e2e --bin bench_faults
	cargo run --quiet --profile fast -p e2e --bin bench_fleet
	cargo run --quiet --profile fast -p e2e --bin bench_gate_line
	cargo run --quiet --profile fast -p e2e --bin bench_bare_object
	cargo run --quiet --profile fast -p e2e --bin bench_local_r2
	cargo run --quiet --profile fast -p e2e --bin bench_headline
	cargo run --quiet --profile fast -p e2e --bin bench_stage_overhead
	cargo run --quiet --profile fast -p e2e --bin chaos
