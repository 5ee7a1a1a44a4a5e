// Tendril's BSON walk (prototypes and contracts in include/CTendrilBSON.h). Everything here
// reads bytes only: no allocation, and no libbson call but its UTF-8 validator for text that is
// not plain ASCII.
#include "CTendrilBSON.h"

#include <string.h>

// libbson's UTF-8 check (libbson 1.23, linked through CTendrilMongoC), declared here so this
// target needs no libbson headers.
extern bool bson_utf8_validate(const char *utf8, size_t utf8_len, bool allow_null);

// A little-endian 32-bit length from any byte order (BSON's lengths are little-endian).
static inline __attribute__((always_inline)) uint32_t tendril_le32(uint32_t stored) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(stored);
#else
    return stored;
#endif
}

// bson_utf8_validate with a fast path for plain ASCII (most keys and strings): eight bytes at a
// time, no byte with its high bit set (and, unless NUL is allowed, none zero) means valid.
// Anything else goes to libbson's full check.
static inline bool utf8_validate(const char *text, size_t length, bool allow_null) {
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


// The size of the value of an element of BSON type `type` starting at `value`, of which
// `available` bytes remain before the document's terminating NUL; -1 when it does not fit or
// the type is unknown. Every length read is checked against `available`.
static inline __attribute__((always_inline)) int64_t value_size(uint8_t type, const uint8_t *value, size_t available) {
    int32_t length;
    switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12:  // double, datetime, timestamp, int64
        return available >= 8 ? 8 : -1;
    case 0x10:  // int32
        return available >= 4 ? 4 : -1;
    case 0x08:  // bool: 0 or 1
        return available >= 1 && value[0] <= 1 ? 1 : -1;
    case 0x07:  // ObjectId
        return available >= 12 ? 12 : -1;
    case 0x13:  // decimal128
        return available >= 16 ? 16 : -1;
    case 0x06: case 0x0A: case 0x7F: case 0xFF:  // undefined, null, maxKey, minKey
        return 0;
    case 0x02: case 0x0D: case 0x0E:  // string, code, symbol: length, bytes, NUL
        if (available < 4) return -1;
        memcpy(&length, value, 4);
        length = (int32_t)tendril_le32((uint32_t)length);
        if (length < 1 || (size_t)length > available - 4 || value[4 + length - 1] != 0) return -1;
        return 4 + (int64_t)length;
    case 0x03: case 0x04:  // document, array: total length first
        if (available < 4) return -1;
        memcpy(&length, value, 4);
        length = (int32_t)tendril_le32((uint32_t)length);
        if (length < 5 || (size_t)length > available || value[length - 1] != 0) return -1;
        return length;
    case 0x0F: {  // code with scope: total length, code string, scope document
        int32_t code_length, scope_length;
        if (available < 4) return -1;
        memcpy(&length, value, 4);
        length = (int32_t)tendril_le32((uint32_t)length);
        if (length < 14 || (size_t)length > available) return -1;
        memcpy(&code_length, value + 4, 4);
        code_length = (int32_t)tendril_le32((uint32_t)code_length);
        if (code_length < 1 || code_length > length - 8 - 5 || value[8 + code_length - 1] != 0) return -1;
        memcpy(&scope_length, value + 8 + code_length, 4);
        scope_length = (int32_t)tendril_le32((uint32_t)scope_length);
        if (scope_length < 5 || scope_length != length - 8 - code_length || value[length - 1] != 0) return -1;
        return length;
    }
    case 0x05: {  // binary: length, subtype, bytes (the old subtype 2 repeats the length inside)
        if (available < 5) return -1;
        memcpy(&length, value, 4);
        length = (int32_t)tendril_le32((uint32_t)length);
        if (length < 0 || (size_t)length > available - 5) return -1;
        if (value[4] == 0x02) {
            int32_t inner;
            if (length < 4) return -1;
            memcpy(&inner, value + 5, 4);
            inner = (int32_t)tendril_le32((uint32_t)inner);
            if (inner != length - 4) return -1;
        }
        return 5 + (int64_t)length;
    }
    case 0x0B: {  // regex: two C strings
        const uint8_t *pattern_end = memchr(value, 0, available);
        if (!pattern_end) return -1;
        size_t used = (size_t)(pattern_end - value) + 1;
        const uint8_t *options_end = memchr(value + used, 0, available - used);
        if (!options_end) return -1;
        return (int64_t)(options_end - value) + 1;
    }
    case 0x0C:  // DBPointer: string, then an ObjectId
        if (available < 4) return -1;
        memcpy(&length, value, 4);
        length = (int32_t)tendril_le32((uint32_t)length);
        if (length < 1 || (size_t)length > available - 4 || available - 4 - (size_t)length < 12 ||
            value[4 + length - 1] != 0) return -1;
        return 4 + (int64_t)length + 12;
    default:
        return -1;
    }
}

// The length of the NUL-terminated key at `key` (`room` when no NUL comes within `room` bytes),
// and whether its bytes are all ASCII. Eight bytes at a time where eight are in bounds: keys
// are short, but a byte loop's branch per byte showed in every load's profile.
static inline __attribute__((always_inline)) uint32_t scan_key(const uint8_t *key, uint32_t room, bool *is_ascii) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t bits = 0;  // every key byte OR-ed: the high bits tell whether the key is plain ASCII
    uint32_t length = 0;
    while (room - length >= 8) {
        uint64_t word;
        memcpy(&word, key + length, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        word = __builtin_bswap64(word);  // the key's first byte lowest, as on little-endian hosts
#endif
        uint64_t zeros = (word - ones) & ~word & highs;  // the lowest set bit marks the first NUL
        if (zeros) {
            uint32_t before = (uint32_t)__builtin_ctzll(zeros) / 8;
            bits |= before ? word & (~0ull >> (64 - 8 * before)) : 0;
            *is_ascii = (bits & highs) == 0;
            return length + before;
        }
        bits |= word;
        length += 8;
    }
    while (length < room && key[length] != 0) bits |= key[length++];
    *is_ascii = (bits & highs) == 0;
    return length;
}

// Steps to the element at *offset of the document `data` (`length` bytes, its length prefix
// already checked) and moves *offset past it. Returns 1 with `element` filled, 0 at the end, -1
// when the bytes are malformed. A plain walk over the bytes: libbson's iterator does the same
// with more bookkeeping per element, and this runs for every element of every loaded document.
static inline __attribute__((always_inline)) tendril_bson_step_t next_element(const uint8_t *data, uint32_t length,
                                                                            uint32_t *offset,
                                                                            tendril_bson_element_t *element) {
    uint32_t end = length - 1;  // the document's terminating NUL
    uint32_t at = *offset;
    if (at >= end) return TENDRIL_STEP_END;
    element->offset = at;
    element->type = data[at];
    const uint8_t *key = data + at + 1;
    uint32_t key_room = end - (at + 1);
    uint32_t key_length = scan_key(key, key_room, &element->key_is_ascii);
    if (key_length == key_room) return TENDRIL_STEP_MALFORMED;
    element->key = key;
    element->key_length = key_length;
    uint32_t value_offset = at + 1 + element->key_length + 1;
    int64_t size = value_size(element->type, data + value_offset, end - value_offset);
    if (size < 0) return TENDRIL_STEP_MALFORMED;
    element->value = data + value_offset;
    element->value_size = (uint32_t)size;
    *offset = value_offset + (uint32_t)size;
    return TENDRIL_STEP_ELEMENT;
}

// True when `data` starts with a plausible document header: its length prefix is `length`, at
// least 5, and it ends in NUL.
static inline __attribute__((always_inline)) bool header_fits(const uint8_t *data, uint32_t length) {
    uint32_t prefix;
    if (length < 5 || length > INT32_MAX) return false;
    memcpy(&prefix, data, 4);
    return tendril_le32(prefix) == length && data[length - 1] == 0;
}

// Where the walk of a document's elements starts: after its length prefix, or, when its header
// does not fit its length, at UINT32_MAX, where `next_element` ends at once (no element at all).
static inline uint32_t first_element_offset(const uint8_t *data, uint32_t length) {
    return header_fits(data, length) ? 4 : UINT32_MAX;
}

// Compares whole words, the last one overlapping the one before, instead of a byte at a time
// (a branch per byte, mispredicted at each key's end).
static inline bool keys_equal(const uint8_t *a, const uint8_t *b, uint32_t length) {
    if (length >= 8) {
        uint64_t x, y;
        for (uint32_t at = 0; at + 8 <= length; at += 8) {
            memcpy(&x, a + at, 8);
            memcpy(&y, b + at, 8);
            if (x != y) return false;
        }
        memcpy(&x, a + length - 8, 8);
        memcpy(&y, b + length - 8, 8);
        return x == y;
    }
    if (length >= 4) {
        uint32_t x, y, u, v;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&u, a + length - 4, 4);
        memcpy(&v, b + length - 4, 4);
        return x == y && u == v;
    }
    // 0 to 3 bytes: the first, middle and last cover them all.
    return length == 0 || (a[0] == b[0] && a[length / 2] == b[length / 2] && a[length - 1] == b[length - 1]);
}


// Checks what tendril_bson_next_element leaves to check of one element of `data` (a document at
// nesting `depth`): that its key and any text in it are UTF-8, and that a document or array in it
// validates (tendril_bson_validate) no deeper than max_depth. Sizes and terminators were checked
// by the walk. On a fault *error_offset is where it is, counted from the start of `data`.
static inline __attribute__((always_inline)) tendril_bson_validity_t validate_element(
        const uint8_t *data, const tendril_bson_element_t *element, int depth, int max_depth, uint32_t *error_offset) {
    const uint8_t *text = NULL;
    uint32_t text_length = 0;
    const uint8_t *child = NULL;
    uint32_t child_length = 0;
    int32_t code_length;
    *error_offset = element->offset;
    // An ASCII key without NUL (the walk stopped at the first) is UTF-8 already.
    if (!element->key_is_ascii && !utf8_validate((const char *)element->key, element->key_length, false)) {
        return TENDRIL_BSON_INVALID_UTF8;
    }
    switch (element->type) {
    case 0x02: case 0x0C: case 0x0D: case 0x0E:  // string, DBPointer, code, symbol
        text = element->value + 4;
        text_length = element->value_size - 4 - 1 - (element->type == 0x0C ? 12 : 0);
        break;
    case 0x0B: {  // regex: pattern and options, each a C string
        size_t pattern_length = strlen((const char *)element->value);
        const char *options = (const char *)element->value + pattern_length + 1;
        if (!utf8_validate((const char *)element->value, pattern_length, false) ||
            !utf8_validate(options, strlen(options), false)) {
            return TENDRIL_BSON_INVALID_UTF8;
        }
        break;
    }
    case 0x03: case 0x04:  // document, array
        child = element->value;
        child_length = element->value_size;
        break;
    case 0x0F:  // code with scope: total length, code string, scope document
        memcpy(&code_length, element->value + 4, 4);
        code_length = (int32_t)tendril_le32((uint32_t)code_length);
        text = element->value + 8;
        text_length = (uint32_t)code_length - 1;
        child = element->value + 8 + code_length;
        child_length = element->value_size - 8 - (uint32_t)code_length;
        break;
    default:
        break;
    }
    if (text && !utf8_validate((const char *)text, text_length, true)) {
        return TENDRIL_BSON_INVALID_UTF8;
    }
    if (child) {
        tendril_bson_validity_t status = tendril_bson_validate(child, child_length, depth + 1, max_depth, error_offset);
        if (status != TENDRIL_BSON_VALID) {
            // The child reported an offset within itself; the caller wants one within `data`.
            *error_offset += (uint32_t)(child - data);
            return status;
        }
    }
    return TENDRIL_BSON_VALID;
}

// Walks a document with tendril_bson_next_element, checking every length, every UTF-8 string
// and key, and nesting no deeper than max_depth. The depth check comes before recursing, so
// hostile nesting cannot overflow the stack (libbson's own validator recurses without a
// limit). error_offset is where the fault is, counted from the start of `data` (the element
// holding invalid UTF-8, or where the walk found the bytes inconsistent).
tendril_bson_validity_t tendril_bson_validate(const uint8_t *data, uint32_t length, int depth, int max_depth,
                                              uint32_t *error_offset) {
    uint32_t offset = 4;
    tendril_bson_element_t element;
    tendril_bson_step_t step;
    *error_offset = 0;
    if (depth > max_depth) {
        return TENDRIL_BSON_TOO_DEEP;
    }
    if (!header_fits(data, length)) {
        return TENDRIL_BSON_CORRUPT;
    }
    while ((step = next_element(data, length, &offset, &element)) == TENDRIL_STEP_ELEMENT) {
        tendril_bson_validity_t status = validate_element(data, &element, depth, max_depth, error_offset);
        if (status != TENDRIL_BSON_VALID) {
            return status;
        }
    }
    if (step == TENDRIL_STEP_MALFORMED) {
        *error_offset = offset;
        return TENDRIL_BSON_CORRUPT;
    }
    return TENDRIL_BSON_VALID;
}


// With `packed` (at most 12 fields), a field's needs-check flag is a bit; else a byte.
static inline __attribute__((always_inline)) void flag_needs_check(tendril_packed_offsets_t *packed, uint8_t *needs_check,
                                                                   int32_t field) {
    if (packed) {
        packed->needs_check |= 1ull << field;
    } else {
        needs_check[field] = 1;
    }
}

// Matches every top-level element of a document to a field by key (trying the field after the
// previous match first) and checks its type byte: in one walk, decoding nothing. With max_depth
// >= 0 the same walk also validates every element as tendril_bson_validate would; with
// max_depth < 0 the bytes are trusted. Writes each field's element offset (into `offsets`, or
// with `packed` into 16-bit lanes, four per word, 0xFFFF meaning absent) and flags values that
// need a closer look. Any status but OK stops the walk, so elements after it are not validated.
static inline __attribute__((always_inline)) tendril_match_status_t match_fields_walk(
        const uint8_t *data, uint32_t length, const tendril_field_table_t *table, int32_t *offsets, uint8_t *needs_check,
        tendril_packed_offsets_t *packed, int max_depth, tendril_match_outcome_t *outcome) {
    int32_t guess = 0;
    uint32_t offset = 4;
    tendril_bson_element_t element;
    tendril_bson_step_t step;
    outcome->id_offset = -1;
    outcome->slot = -1;
    outcome->problem_offset = 0;
    if (!header_fits(data, length)) {
        return TENDRIL_MATCH_MALFORMED;
    }
    while ((step = next_element(data, length, &offset, &element)) == TENDRIL_STEP_ELEMENT) {
        uint32_t type = element.type;
        uint32_t bit = 1u << (type & 31u);
        int32_t field = -1;
        if (max_depth >= 0 &&
            validate_element(data, &element, 0, max_depth, &outcome->problem_offset) != TENDRIL_BSON_VALID) {
            return TENDRIL_MATCH_INVALID;
        }
        if (table->checks_id && element.key_length == 3 && keys_equal(element.key, (const uint8_t *)"_id", 3)) {
            if (type != 0x07) {
                outcome->problem_offset = element.offset;
                return TENDRIL_MATCH_ID_NOT_OBJECT_ID;
            }
            outcome->id_offset = (int32_t)element.offset;
            continue;
        }
        for (int32_t probe = 0; probe < table->field_count; probe++) {
            // guess <= field_count, so one subtraction wraps (a % here cost a division per key).
            int32_t candidate = guess + probe;
            if (candidate >= table->field_count) {
                candidate -= table->field_count;
            }
            if (table->key_lengths[candidate] == element.key_length &&
                keys_equal(table->keys + table->key_starts[candidate], element.key, element.key_length)) {
                field = candidate;
                break;
            }
        }
        if (field < 0) {
            continue;  // a stored field the class does not declare: kept, not checked
        }
        guess = field + 1;
        if (packed) {
            if (element.offset >= 0xFFFF) {
                return TENDRIL_MATCH_OFFSET_TOO_LARGE;
            }
            uint32_t shift = (uint32_t)(field % 4) * 16;
            packed->lanes[field / 4] = (packed->lanes[field / 4] & ~(0xFFFFull << shift)) | ((uint64_t)element.offset << shift);
        } else {
            offsets[field] = (int32_t)element.offset;
        }
        if (table->check_masks[field] & bit) {
            // An array or document of scalars is checked here, element by element, by type byte.
            if ((type == 0x04 || type == 0x03) && table->element_accept_masks[field] != 0) {
                uint32_t child_offset = 4;
                tendril_bson_element_t child;
                tendril_bson_step_t child_step;
                while ((child_step = next_element(element.value, element.value_size, &child_offset, &child)) ==
                       TENDRIL_STEP_ELEMENT) {
                    uint32_t child_bit = 1u << ((uint32_t)child.type & 31u);
                    if (table->element_accept_masks[field] & child_bit) {
                        continue;
                    }
                    if (table->element_check_masks[field] & child_bit) {
                        flag_needs_check(packed, needs_check, field);
                        break;
                    }
                    outcome->problem_offset = element.offset;
                    outcome->slot = field;
                    return TENDRIL_MATCH_WRONG_TYPE;
                }
                if (child_step == TENDRIL_STEP_MALFORMED) {
                    outcome->problem_offset = element.offset;
                    return TENDRIL_MATCH_MALFORMED;
                }
            } else {
                flag_needs_check(packed, needs_check, field);
            }
        } else if (!(table->accept_masks[field] & bit)) {
            outcome->problem_offset = element.offset;
            outcome->slot = field;
            return TENDRIL_MATCH_WRONG_TYPE;
        }
    }
    if (step == TENDRIL_STEP_MALFORMED) {
        outcome->problem_offset = offset;
        return TENDRIL_MATCH_MALFORMED;
    }
    return TENDRIL_MATCH_OK;
}

tendril_match_status_t tendril_bson_match_fields(const uint8_t *data, uint32_t length, const tendril_field_table_t *table,
                                                 int32_t *offsets, uint8_t *needs_check, tendril_match_outcome_t *outcome) {
    return match_fields_walk(data, length, table, offsets, needs_check, NULL, -1, outcome);
}

tendril_match_status_t tendril_bson_validate_and_match_fields(const uint8_t *data, uint32_t length,
                                                              const tendril_field_table_t *table, int32_t *offsets,
                                                              uint8_t *needs_check, int max_depth,
                                                              tendril_match_outcome_t *outcome) {
    return match_fields_walk(data, length, table, offsets, needs_check, NULL, max_depth, outcome);
}

tendril_match_status_t tendril_bson_match_fields_packed(const uint8_t *data, uint32_t length,
                                                        const tendril_field_table_t *table,
                                                        tendril_packed_offsets_t *packed, int max_depth,
                                                        tendril_match_outcome_t *outcome) {
    packed->lanes[0] = packed->lanes[1] = packed->lanes[2] = ~0ull;
    packed->needs_check = 0;
    // Two inlined copies of the walk: in the second, max_depth is the constant -1, so the
    // validation drops out of it (trusted bytes are only matched).
    if (max_depth >= 0) {
        return match_fields_walk(data, length, table, NULL, NULL, packed, max_depth, outcome);
    }
    return match_fields_walk(data, length, table, NULL, NULL, packed, -1, outcome);
}

// The nesting depth of a well-formed document: 0 when no element is a document or an array (a
// code-with-scope scope counts as a document), else one more than its deepest such element.
// Stops descending past `limit` levels (then returns limit + 1), so its recursion is bounded.
int tendril_bson_nesting_depth(const uint8_t *data, uint32_t length, int limit) {
    uint32_t offset = first_element_offset(data, length);
    tendril_bson_element_t element;
    int deepest = 0;
    while (next_element(data, length, &offset, &element) == TENDRIL_STEP_ELEMENT) {
        const uint8_t *child = NULL;
        uint32_t child_length = 0;
        if (element.type == 0x03 || element.type == 0x04) {
            child = element.value;
            child_length = element.value_size;
        } else if (element.type == 0x0F) {
            int32_t code_length;
            memcpy(&code_length, element.value + 4, 4);
            code_length = (int32_t)tendril_le32((uint32_t)code_length);
            child = element.value + 8 + code_length;
            child_length = element.value_size - 8 - (uint32_t)code_length;
        }
        if (child) {
            int depth = limit <= 0 ? 1 : 1 + tendril_bson_nesting_depth(child, child_length, limit - 1);
            if (depth > deepest) deepest = depth;
            if (deepest > limit) return deepest;
        }
    }
    return deepest;
}

tendril_bson_step_t tendril_bson_next_element(const uint8_t *data, uint32_t length, uint32_t *offset,
                                              tendril_bson_element_t *element) {
    return next_element(data, length, offset, element);
}

bool tendril_bson_header_fits(const uint8_t *data, uint32_t length) {
    return header_fits(data, length);
}

int32_t tendril_bson_count_elements(const uint8_t *data, uint32_t length) {
    uint32_t offset = first_element_offset(data, length);
    tendril_bson_element_t element;
    int32_t count = 0;
    while (next_element(data, length, &offset, &element) == TENDRIL_STEP_ELEMENT) {
        count++;
    }
    return count;
}

int64_t tendril_bson_find_key(const uint8_t *data, uint32_t length, const uint8_t *key, uint32_t key_length) {
    uint32_t offset = first_element_offset(data, length);
    tendril_bson_element_t element;
    while (next_element(data, length, &offset, &element) == TENDRIL_STEP_ELEMENT) {
        if (element.key_length == key_length && keys_equal(element.key, key, key_length)) {
            return (int64_t)element.offset;
        }
    }
    return -1;
}

int32_t tendril_bson_element_positions(const uint8_t *data, uint32_t length, uint32_t start,
                                       tendril_bson_position_t *positions, int32_t capacity) {
    uint32_t offset = start;
    tendril_bson_element_t element;
    int32_t count = 0;
    tendril_bson_step_t step;
    while ((step = next_element(data, length, &offset, &element)) == TENDRIL_STEP_ELEMENT) {
        if (count < capacity) {
            positions[count].offset = element.offset;
            positions[count].key_length = element.key_length;
        }
        count++;
    }
    return step == TENDRIL_STEP_END ? count : -1;
}
