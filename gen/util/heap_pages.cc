#include "util/heap_pages.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

void ReserveHeap(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  constexpr size_t kProbe = 8 * kHuge;  // more than the top of a young heap holds
  static bool reserved = false;
  if (reserved || bytes < kProbe) return;
  reserved = true;
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
