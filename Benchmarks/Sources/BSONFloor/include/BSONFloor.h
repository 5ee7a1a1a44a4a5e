#ifndef BSON_FLOOR_H
#define BSON_FLOOR_H
#include <stddef.h>
#include <stdint.h>

// Walks `count` documents laid end to end in `data` with libbson's iterator, touching every
// value the way a decoder must (type switch, value pointer or scalar), and returns a checksum
// so the compiler cannot drop the work. This is the floor hydration is compared with.
// The same walk over one document.
uint64_t bson_floor_walk_document(const uint8_t *data, uint32_t length);

uint64_t bson_floor_walk(const uint8_t *data, const uint32_t *offsets, const uint32_t *lengths, size_t count);

#endif
