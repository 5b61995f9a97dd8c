#include "manifest/parser_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <memory>

namespace od = simdjson::ondemand;

namespace {

// simdjson keeps the parser's buffers private and allocates them with
// new[]; it has no allocator hook. An explicit instantiation may name
// private members, so these friends reach the two pointers (read only,
// after allocate(); simdjson still owns and frees them). The pinned
// simdjson (3.0.1, third_party/ and Debian 12's header) declares both.
using Implementation = std::unique_ptr<simdjson::internal::dom_parser_implementation>;
using StringBuffer = std::unique_ptr<uint8_t[]>;
const Implementation& ImplementationOf(const od::parser& parser);
const StringBuffer& StringBufferOf(const od::parser& parser);

template <Implementation od::parser::*kImplementation, StringBuffer od::parser::*kStringBuffer>
struct ParserBuffers {
  friend const Implementation& ImplementationOf(const od::parser& parser) {
    return parser.*kImplementation;
  }
  friend const StringBuffer& StringBufferOf(const od::parser& parser) {
    return parser.*kStringBuffer;
  }
};
template struct ParserBuffers<&od::parser::implementation, &od::parser::string_buf>;

// Asks for huge pages over the whole 2 MB pages inside [start, start + size).
// `size` is at most the buffer's: simdjson allocates more than that (the
// index holds a uint32_t per byte, the string buffer 5/3 of the document),
// so the range never leaves the buffer.
void AdviseHugePages(const void* start, size_t size) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(start) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(start) + size) & ~(kHuge - 1);
  if (begin < end) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

void AllocateParser(od::parser* parser, size_t size) {
  if (parser->allocate(size) != simdjson::SUCCESS) return;
  if (const Implementation& implementation = ImplementationOf(*parser))
    AdviseHugePages(implementation->structural_indexes.get(), size * sizeof(uint32_t));
  AdviseHugePages(StringBufferOf(*parser).get(), size);
}
