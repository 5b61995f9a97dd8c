#!/usr/bin/env bash
# The sanitizer build and a bounded fuzz run (issue 13); `make test` runs it
# as the CTest test `fuzz`.
#   1. build-fuzz/: the project compiled by clang with ASan and UBSan
#      (tests/fuzz/sanitize.cmake), the manifest read into an exact-size
#      allocation;
#   2. the unit tests under the sanitizers;
#   3. each libFuzzer harness for PA_FUZZ_SECONDS (default 30) from its seed
#      corpus in tests/fuzz/corpus/<format>/ (read only) and what earlier runs
#      found (build-fuzz/corpus/<format>/). A crash leaves its input in
#      build-fuzz/artifacts/ and fails the test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${PA_FUZZ_SECONDS:-30}
dir=${PA_FUZZ_BUILD:-build-fuzz}
formats=(manifest policy_file plan state)

command -v clang++ >/dev/null || { echo "fuzz: clang++ missing (scripts/setup.sh installs it)"; exit 1; }
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DPA_FUZZ=ON >/dev/null
cmake --build "$dir" --target unit_tests "${formats[@]/#/fuzz_}"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
start=$SECONDS
"$dir/tests/unit_tests" --gtest_brief=1
echo "fuzz: unit tests under ASan+UBSan passed in $((SECONDS - start)) s"

mkdir -p "$dir/artifacts"
for f in "${formats[@]}"; do
  mkdir -p "$dir/corpus/$f"
  echo "fuzz: $f for ${seconds} s"
  "$dir/tests/fuzz/fuzz_$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=1048576 -artifact_prefix="$dir/artifacts/$f-" -print_final_stats=1 \
    "$dir/corpus/$f" "tests/fuzz/corpus/$f" 2>"$dir/artifacts/$f.log" \
    || { tail -40 "$dir/artifacts/$f.log"; exit 1; }
  grep -E "stat::number_of_executed_units|cov:.*DONE|^Done" "$dir/artifacts/$f.log" | tail -2
done
