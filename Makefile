# Thin wrapper: the commands that set everything up on a fresh machine.
#   make demo   build pa-gen, then pa-gen && ninja -j8 on examples/planalign
#   make test   build pa-gen, then every unit and end-to-end test (CTest, TEST_JOBS=2
#               at a time: each end-to-end test has a DuckDB file of its own)
#   make bench  build pa-gen, then the benchmark suite (QUICK=1: under 10 minutes);
#               results in bench/results/latest.md and latest.json
.PHONY: all build setup demo test bench clean

TEST_JOBS ?= 2

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build

demo: build
	@scripts/demo.sh

test: build
	@cd build && DO_NOT_TRACK=1 ctest --output-on-failure -j$(TEST_JOBS)

bench: build
	@python3 bench/run.py $(if $(filter 1,$(QUICK)),--quick)

clean:
	rm -rf build
