#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>

#include "util/heap_pages.h"

// How many threads ForEachBlock runs work on at most.
inline constexpr size_t kBlockWorkers = 2;

// Runs work(worker, begin, end) over [0, n) in blocks of `block` items,
// taken in ascending order by the calling thread (worker 0) and, from
// `min_parallel` items on, by one more (worker 1): pa-gen's machines have
// two cores or more, and a generation's large loops over nodes have
// independent items. The blocks must not depend on each other; each
// worker's blocks come in ascending order, so state kept per worker sees
// its items in order. An exception on the helper is rethrown here once both
// are done.
template <typename Work>
void ForEachBlock(size_t n, size_t block, size_t min_parallel, Work work) {
  std::atomic<size_t> next{0};
  auto run = [&](size_t worker) {
    for (size_t start; (start = next.fetch_add(block)) < n;)
      work(worker, start, std::min(start + block, n));
  };
  if (n < min_parallel || std::thread::hardware_concurrency() < 2) return run(0);
  std::exception_ptr failure;
  {
    std::jthread helper([&] {
      try {
        AdviseThreadHeap();
        run(1);
      } catch (...) {
        failure = std::current_exception();
      }
    });
    run(0);
  }
  if (failure) std::rethrow_exception(failure);
}
