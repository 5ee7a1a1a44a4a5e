#ifndef TENDRIL_HEAP_STATS_H
#define TENDRIL_HEAP_STATS_H
#include <stddef.h>

/// Bytes the allocator holds for the program now (glibc `mallinfo2()`: in-use chunks of every
/// arena plus mmapped blocks), after `malloc_trim(0)` returned what it could. Swift's Glibc
/// module does not export `mallinfo2`, hence this shim.
size_t tendril_live_heap_bytes(void);

/// The same figure without trimming first: cheap enough to sample while a benchmark runs.
size_t tendril_heap_in_use_bytes(void);

#endif
