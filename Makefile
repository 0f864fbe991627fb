# Entry points for people and CI; CMake does the real work. See README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
MODEL ?= ../shared/data/llm/derived/stories260K-converted.gguf
FUZZ_SECONDS ?= 60
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

# Until the HTTP server lands, "serve" shows the model it would serve.
serve: build
	@if [ ! -f "$(MODEL)" ]; then echo "serve: model $(MODEL) not found; run: make serve MODEL=path/to/model.gguf"; exit 1; fi
	$(BUILD)/bin/hearth --version
	$(BUILD)/bin/hearth inspect "$(MODEL)"

clean:
	rm -rf $(BUILD) build-fuzz
