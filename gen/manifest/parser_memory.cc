#include "manifest/parser_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <system_error>

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

PreparedParser::PreparedParser(size_t size) : size_(size) {
  AllocateParser(&parser_, size);
  const Implementation& implementation = ImplementationOf(parser_);
  if (!implementation || parser_.capacity() < size) return;
  uint32_t* index = implementation->structural_indexes.get();
  size_t bytes = size / 2 / sizeof(uint32_t) * sizeof(uint32_t);
  // Whole pages inside the index (madvise wants an aligned start).
  constexpr uintptr_t kPage = 4096;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(index) + kPage - 1) & ~(kPage - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(index) + bytes) & ~(kPage - 1);
  if (begin >= end) return;
  try {
    helper_ = std::thread([begin, end] {
      // A huge page at a time: madvise holds the process's memory map
      // lock, and the thread reading the file needs it to map the file.
      constexpr uintptr_t kStep = uintptr_t{2} << 20;
      for (uintptr_t at = begin; at < end; at += kStep) {
        if (madvise(reinterpret_cast<void*>(at), std::min(kStep, end - at), MADV_POPULATE_WRITE) != 0)
          return;  // no such advice (Linux before 5.14), or no memory: stage 1 faults them
      }
    });
  } catch (const std::system_error&) {  // no thread: stage 1 takes the faults, as before
  }
}

PreparedParser::~PreparedParser() {
  if (helper_.joinable()) helper_.join();
}
