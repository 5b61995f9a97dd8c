#pragma once

#include <cstddef>

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
