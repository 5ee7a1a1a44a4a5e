// The C side of Tendril: libmongoc/libbson plus the few helpers Swift cannot
// write itself (macros, over-aligned structs, stack-allocated iterators).
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

typedef enum {
    TENDRIL_BSON_VALID = 0,
    TENDRIL_BSON_CORRUPT = 1,
    TENDRIL_BSON_INVALID_UTF8 = 2,
    TENDRIL_BSON_TOO_DEEP = 3,
} tendril_bson_validity_t;

// Walks a document with the iterator on the C stack, checking every length,
// every UTF-8 string and key, and nesting no deeper than max_depth. The depth
// check comes before recursing, so hostile nesting cannot overflow the stack
// (libbson's own validator recurses without a limit). error_offset is relative to the
// innermost document being checked.
// bson_utf8_validate with a fast path for plain ASCII (most keys and strings): eight bytes at a
// time, no byte with its high bit set (and, unless NUL is allowed, none zero) means valid.
// Anything else goes to libbson's full check.
static inline bool tendril_utf8_validate(const char *text, size_t length, bool allow_null) {
    const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    size_t index = 0;
    for (; index + 8 <= length; index += 8) {
        uint64_t word;
        memcpy(&word, text + index, 8);
        if ((word & high) || (!allow_null && ((word - ones) & ~word & high))) {
            return bson_utf8_validate(text, length, allow_null);
        }
    }
    for (; index < length; index++) {
        unsigned char byte = (unsigned char)text[index];
        if (byte >= 0x80 || (!allow_null && byte == 0)) {
            return bson_utf8_validate(text, length, allow_null);
        }
    }
    return true;
}

static inline tendril_bson_validity_t tendril_bson_validate(const uint8_t *data,
                                                           uint32_t length,
                                                           int depth,
                                                           int max_depth,
                                                           uint32_t *error_offset) {
    bson_iter_t iter;
    if (depth > max_depth) {
        return TENDRIL_BSON_TOO_DEEP;
    }
    if (!bson_iter_init_from_data(&iter, data, length)) {
        return TENDRIL_BSON_CORRUPT;
    }
    while (bson_iter_next(&iter)) {
        uint32_t text_length = 0;
        const char *text = NULL;
        uint32_t child_length = 0;
        const uint8_t *child = NULL;
        tendril_bson_validity_t status = TENDRIL_BSON_VALID;
        *error_offset = (uint32_t)iter.off;
        if (!tendril_utf8_validate(bson_iter_key(&iter), bson_iter_key_len(&iter), false)) {
            return TENDRIL_BSON_INVALID_UTF8;
        }
        switch (bson_iter_type(&iter)) {
        case BSON_TYPE_UTF8:
            text = bson_iter_utf8(&iter, &text_length);
            break;
        case BSON_TYPE_CODE:
            text = bson_iter_code(&iter, &text_length);
            break;
        case BSON_TYPE_SYMBOL:
            text = bson_iter_symbol(&iter, &text_length);
            break;
        case BSON_TYPE_DBPOINTER: {
            const bson_oid_t *oid = NULL;
            bson_iter_dbpointer(&iter, &text_length, &text, &oid);
            break;
        }
        case BSON_TYPE_REGEX: {
            const char *options = NULL;
            const char *pattern = bson_iter_regex(&iter, &options);
            if (!pattern || !options || !tendril_utf8_validate(pattern, strlen(pattern), false) ||
                !tendril_utf8_validate(options, strlen(options), false)) {
                return TENDRIL_BSON_INVALID_UTF8;
            }
            break;
        }
        case BSON_TYPE_DOCUMENT:
            bson_iter_document(&iter, &child_length, &child);
            break;
        case BSON_TYPE_ARRAY:
            bson_iter_array(&iter, &child_length, &child);
            break;
        case BSON_TYPE_CODEWSCOPE:
            text = bson_iter_codewscope(&iter, &text_length, &child_length, &child);
            // bson_iter_next does not check that this string ends with its NUL.
            if (!text || text[text_length] != '\0') {
                return TENDRIL_BSON_CORRUPT;
            }
            break;
        default:
            break;
        }
        if (text && !tendril_utf8_validate(text, text_length, true)) {
            return TENDRIL_BSON_INVALID_UTF8;
        }
        if (bson_iter_type(&iter) == BSON_TYPE_DOCUMENT || bson_iter_type(&iter) == BSON_TYPE_ARRAY ||
            bson_iter_type(&iter) == BSON_TYPE_CODEWSCOPE) {
            if (!child) {
                return TENDRIL_BSON_CORRUPT;
            }
            status = tendril_bson_validate(child, child_length, depth + 1, max_depth, error_offset);
            if (status != TENDRIL_BSON_VALID) {
                return status;
            }
        }
    }
    if (iter.err_off != 0) {
        *error_offset = iter.err_off;
        return TENDRIL_BSON_CORRUPT;
    }
    return TENDRIL_BSON_VALID;
}

// A document class's fields as C sees them, for tendril_bson_match_fields.
typedef struct {
    const uint8_t *keys;           // every field's key, concatenated
    const uint32_t *key_starts;    // where each field's key starts in `keys`
    const uint32_t *key_lengths;
    const uint32_t *accept_masks;  // bit (type & 31): a value of that type is valid as is
    const uint32_t *check_masks;   // bit (type & 31): the value must be decoded to know
    const uint32_t *element_accept_masks;  // for arrays/documents of scalars: valid element types
    const uint32_t *element_check_masks;   // element types that must be decoded to know
    int32_t field_count;
    int32_t checks_id;             // a top-level document: `_id` must be an ObjectId
} tendril_field_table_t;

// Matches every top-level element of a valid document to a field by key (trying the field
// after the previous match first) and checks its type byte: in one walk, decoding nothing.
// Writes each field's element offset (or leaves -1), sets needs_check[i] for values that need a
// closer look, and returns -1 when all is well, the index of the first field whose type is
// wrong, or -2 when `_id` is not an ObjectId. *id_offset receives `_id`'s element offset.
static inline int32_t tendril_bson_match_fields(const uint8_t *data, uint32_t length, const tendril_field_table_t *table,
                                                int32_t *offsets, uint8_t *needs_check, int32_t *id_offset,
                                                uint32_t *problem_offset) {
    bson_iter_t iter;
    int32_t guess = 0;
    if (!bson_iter_init_from_data(&iter, data, length)) {
        return -1;
    }
    while (bson_iter_next(&iter)) {
        const char *key = bson_iter_key(&iter);
        uint32_t key_length = bson_iter_key_len(&iter);
        uint32_t type = (uint32_t)bson_iter_type(&iter);
        uint32_t bit = 1u << (type & 31u);
        int32_t field = -1;
        if (table->checks_id && key_length == 3 && memcmp(key, "_id", 3) == 0) {
            if (type != BSON_TYPE_OID) {
                *problem_offset = iter.off;
                return -2;
            }
            *id_offset = (int32_t)iter.off;
            continue;
        }
        for (int32_t probe = 0; probe < table->field_count; probe++) {
            // guess <= field_count, so one subtraction wraps (a % here cost a division per key).
            int32_t candidate = guess + probe;
            if (candidate >= table->field_count) {
                candidate -= table->field_count;
            }
            if (table->key_lengths[candidate] == key_length &&
                memcmp(table->keys + table->key_starts[candidate], key, key_length) == 0) {
                field = candidate;
                break;
            }
        }
        if (field < 0) {
            continue;  // a stored field the class does not declare: kept, not checked
        }
        guess = field + 1;
        offsets[field] = (int32_t)iter.off;
        if (table->check_masks[field] & bit) {
            // An array or document of scalars is checked here, element by element, by type byte.
            bson_iter_t child;
            if ((type == BSON_TYPE_ARRAY || type == BSON_TYPE_DOCUMENT) && table->element_accept_masks[field] != 0 &&
                bson_iter_recurse(&iter, &child)) {
                while (bson_iter_next(&child)) {
                    uint32_t child_bit = 1u << ((uint32_t)bson_iter_type(&child) & 31u);
                    if (table->element_accept_masks[field] & child_bit) {
                        continue;
                    }
                    if (table->element_check_masks[field] & child_bit) {
                        needs_check[field] = 1;
                        break;
                    }
                    *problem_offset = iter.off;
                    return field;
                }
            } else {
                needs_check[field] = 1;
            }
        } else if (!(table->accept_masks[field] & bit)) {
            *problem_offset = iter.off;
            return field;
        }
    }
    return -1;
}

#endif
