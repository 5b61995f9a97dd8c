#pragma once

#include <cstddef>
#include <thread>

#include <simdjson.h>

// Allocates `parser` for a document of `size` bytes, its large buffers
// (stage 1's index of every structural character, about 0.7 bytes per byte
// of a manifest, and the buffer strings are unescaped into) on transparent
// huge pages where the kernel offers them on request
// (/sys/kernel/mm/transparent_hugepage/enabled: madvise or always). Those
// buffers are fresh memory: in 4 KB pages a 98 MB manifest's index alone
// takes some 17,000 page faults while stage 1 writes it, in 2 MB pages a
// few dozen. Only advice: where the kernel declines, nothing changes, and
// what the parser reads is the same. A failed allocation is left for
// iterate() to report.
void AllocateParser(simdjson::ondemand::parser* parser, size_t size);

// A parser allocated (AllocateParser) for a document of up to `size` bytes
// while the document is still being read: a helper thread has the kernel
// map and clear the pages of the first part of its index (MADV_POPULATE_WRITE)
// meanwhile, so that stage 1 finds them ready instead of taking each huge
// page's fault, and its clearing, on the thread that parses. The part is
// half a byte of index per byte of text (a dbt manifest's index takes
// 0.53-0.72): populated pages that stage 1 would not write are memory for
// nothing. Populating leaves what is in a page as it is, so stage 1 may
// write the index while the helper still runs. Only for documents of
// kPrepareAbove bytes and more; where the kernel lacks the advice, nothing
// is populated.
class PreparedParser {
 public:
  static constexpr size_t kPrepareAbove = size_t{8} << 20;
  explicit PreparedParser(size_t size);
  ~PreparedParser();  // waits for the helper
  PreparedParser(const PreparedParser&) = delete;
  PreparedParser& operator=(const PreparedParser&) = delete;

  simdjson::ondemand::parser& parser() { return parser_; }
  size_t size() const { return size_; }

 private:
  simdjson::ondemand::parser parser_;
  size_t size_;
  std::thread helper_;
};
