#pragma once

#include <cstddef>

// Readies malloc's main heap for a generation that will allocate about
// `bytes` on this thread: the heap grows once by that much, on transparent
// huge pages where the kernel offers them on request
// (/sys/kernel/mm/transparent_hugepage/enabled: madvise or always), and
// what is freed stays in it for the next allocation.
//
// Why: generating from a large manifest allocates some 100 MB in small
// blocks (the nodes' strings, the graph, the plan) and large ones that grow
// by doubling (vectors, texts). Each 4 KB page of it is fresh memory that
// the kernel clears in a page fault on first touch, about 25,000 faults on
// the main thread at 98 MB, and a large block freed went back to the kernel
// only to be asked for, and cleared, again. In 2 MB pages the same memory
// takes a few dozen faults, and clearing a huge page is several times
// faster per byte than clearing 4 KB ones one fault at a time.
//
// Only advice and malloc's settings: where the kernel declines, nothing
// changes but the settings; what is allocated is the same. Once per
// process; below 16 MB it does nothing.
void ReserveHeap(size_t bytes);

// Puts the heap of the calling thread's malloc arena on transparent huge
// pages, as ReserveHeap does the main heap's: a helper thread calls it
// first. glibc gives each thread that allocates an arena of its own, or one
// an ended thread left, with a heap of its own (a 64 MB mapping that
// ReserveHeap's M_TOP_PAD makes usable at once), in 4 KB pages. At 98 MB the
// helpers (digests, graph, selectable nodes, the plan's 15 MB text) took
// some 8,000 faults there, 9,500 of the generation's 10,800. Only advice,
// and only once ReserveHeap has reserved (a large manifest); on the main
// thread, or where the block is not in such a heap, nothing.
void AdviseThreadHeap();
