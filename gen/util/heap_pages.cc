#include "util/heap_pages.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

// glibc's heaps for threads other than the main one are mappings of
// HEAP_MAX_SIZE bytes (2 * 32 MB on 64-bit Linux) aligned to their size; a
// block in one has NON_MAIN_ARENA set in its size word, an mmap'd block
// IS_MMAPPED. Where a block says otherwise, nothing is advised.
constexpr uintptr_t kThreadHeapSize = uintptr_t{64} << 20;
constexpr size_t kNonMainArena = 0x4, kIsMmapped = 0x2;

std::atomic<bool> g_reserved{false};

}  // namespace

void AdviseThreadHeap() {
  if (!g_reserved.load(std::memory_order_relaxed)) return;
  void* block = malloc(64);  // from this thread's arena, attached now if it had none
  if (!block) return;
  // glibc's chunk header: the size word just before the block. The empty
  // asm hides where the pointer came from: the compiler knows only the 64
  // bytes malloc returned and would warn that this reads outside them.
  const char* header = static_cast<const char*>(block) - sizeof(size_t);
  asm("" : "+r"(header));
  size_t size_word;
  std::memcpy(&size_word, header, sizeof(size_t));
  if ((size_word & kNonMainArena) && !(size_word & kIsMmapped)) {
    uintptr_t heap = reinterpret_cast<uintptr_t>(block) & ~(kThreadHeapSize - 1);
    madvise(reinterpret_cast<void*>(heap), kThreadHeapSize, MADV_HUGEPAGE);
  }
  free(block);
}

void ReserveHeap(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  constexpr size_t kProbe = 8 * kHuge;  // more than the top of a young heap holds
  if (g_reserved || bytes < kProbe) return;
  g_reserved = true;
  // Blocks up to glibc's largest threshold (32 MB) come from the heap, not
  // from a fresh mapping each; freed memory is kept, not handed back.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<size_t>(bytes * 2, 1u << 30)));
  // The next growth of the heap adds `bytes`: a block larger than what the
  // top of the heap holds makes it grow now, in one piece.
  mallopt(M_TOP_PAD, static_cast<int>(std::min<size_t>(bytes, 1u << 30)));
  void* probe = malloc(kProbe);
  if (!probe) return;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(probe) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(sbrk(0)) & ~(kHuge - 1);
  // Only when the block lies just below the break, in the heap just grown
  // (a heap that cannot grow in place continues in a mapping elsewhere:
  // then no advice, the range would not be the heap's).
  uintptr_t at = reinterpret_cast<uintptr_t>(probe);
  if (at < end && end - at <= bytes + kProbe + 2 * kHuge && begin < end)
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  free(probe);  // back into the top of the heap, which stays
}
