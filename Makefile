# Entry points for people and CI; CMake does the real work. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
MODEL ?= ../shared/data/llm/derived/stories260K-converted.gguf
FUZZ_SECONDS ?= 60
HOST ?= 127.0.0.1
PORT ?= 8080
SERVE_FLAGS ?=
CMAKE_FLAGS ?=

.PHONY: all deps configure build test unit-test fuzz serve clean

all: build

deps:
	scripts/bootstrap.sh

configure:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Fuzzing first (seeded with the unit tests' hand-made corrupt files), then the llama.cpp
# reference from npm (the differential tests skip with a message without it), the unit
# tests last, so their summary closes the output.
test: build
	$(BUILD)/tests/gguf/test_gguf --gtest_filter='GgufCorrupt.WritesFuzzSeedCorpus' >/dev/null
	scripts/fuzz.sh $(FUZZ_SECONDS)
	scripts/setup-reference.sh || true
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 900

unit-test: build
	scripts/setup-reference.sh || true
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 900

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The OpenAI-compatible server on http://$(HOST):$(PORT)/v1 (SERVE_FLAGS for more, e.g. --api-key K).
serve: build
	@if [ ! -f "$(MODEL)" ]; then echo "serve: model $(MODEL) not found; run: make serve MODEL=path/to/model.gguf"; exit 1; fi
	$(BUILD)/bin/hearth serve --model "$(MODEL)" --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

clean:
	rm -rf $(BUILD) build-fuzz
