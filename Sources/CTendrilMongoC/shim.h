// libmongoc/libbson for Swift, plus the few one-line helpers Swift cannot write itself
// (over-aligned structs, a field of an opaque struct). Tendril's own C (the BSON walk) is
// the CTendrilBSON target.
#ifndef TENDRIL_SHIM_H
#define TENDRIL_SHIM_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

// bson_t is 128-byte aligned and opaque to Swift, so its length needs a getter.
static inline uint32_t tendril_bson_length(const bson_t *bson) { return bson->len; }

// aligned_alloc wants a size that is a multiple of the alignment, but GCC's aligned typedefs
// keep their natural size (bson_iter_t: alignment 128, sizeof 80), so round the size up.
static inline void *tendril_aligned_alloc0(size_t alignment, size_t size) {
    return bson_aligned_alloc0(alignment, (size + alignment - 1) / alignment * alignment);
}

// bson_iter_t is 128-byte aligned: Swift may only hold one allocated here.
static inline bson_iter_t *tendril_iter_new(void) {
    return (bson_iter_t *)tendril_aligned_alloc0(BSON_ALIGNOF(bson_iter_t), sizeof(bson_iter_t));
}
static inline void tendril_iter_free(bson_iter_t *iter) { bson_free(iter); }

// An uninitialised bson_t for *_begin APIs and out-parameters (mongoc fills it).
static inline bson_t *tendril_bson_alloc_uninitialized(void) {
    return (bson_t *)tendril_aligned_alloc0(BSON_ALIGNOF(bson_t), sizeof(bson_t));
}
// Frees what tendril_bson_alloc_uninitialized returned, after bson_destroy of its contents.
static inline void tendril_bson_free_struct(bson_t *bson) { bson_free(bson); }

// A bson_t reading `length` bytes it does not own (a view for the libbson calls that need a
// bson_t over bytes Swift keeps). Free with tendril_bson_free_struct; the bytes stay.
static inline bson_t *tendril_bson_new_view(const uint8_t *data, uint32_t length) {
    bson_t *view = tendril_bson_alloc_uninitialized();
    if (!view || !bson_init_static(view, data, length)) {
        bson_free(view);
        return NULL;
    }
    return view;
}

// mongoc_host_list_t keeps its host name in a char array, which Swift sees as a tuple.
static inline const char *tendril_host_name(const mongoc_host_list_t *host) { return host->host; }

#endif
