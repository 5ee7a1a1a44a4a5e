// Tendril's own BSON walk: a checked element walker, a validator, and the matcher that finds a
// document class's fields in a stored document, in one pass over the bytes. Prototypes only;
// the code is in element_walk.c (kept out of a header so it is compiled once, with its inlining
// decided there, and so every result crosses into Swift as one of the enums below).
#ifndef CTENDRIL_BSON_H
#define CTENDRIL_BSON_H

#include <stdbool.h>
#include <stdint.h>

/// What tendril_bson_validate found.
typedef enum {
    TENDRIL_BSON_VALID = 0,
    TENDRIL_BSON_CORRUPT = 1,
    TENDRIL_BSON_INVALID_UTF8 = 2,
    TENDRIL_BSON_TOO_DEEP = 3,
} tendril_bson_validity_t;

/// One element of a document being walked by tendril_bson_next_element.
typedef struct {
    uint32_t offset;        // where the element (its type byte) starts in the document
    uint8_t type;
    const uint8_t *key;
    uint32_t key_length;
    const uint8_t *value;
    uint32_t value_size;
    bool key_is_ascii;      // no key byte has its high bit set (the scan for its end found no NUL)
} tendril_bson_element_t;

/// What one step of tendril_bson_next_element did.
typedef enum {
    TENDRIL_STEP_END = 0,        // no element left
    TENDRIL_STEP_ELEMENT = 1,    // `element` is filled
    TENDRIL_STEP_MALFORMED = -1, // the bytes are inconsistent at the element
} tendril_bson_step_t;

/// A document's field offsets packed as Swift's ElementLocations keeps them: four 16-bit lanes
/// per word (0xFFFF: absent), and one bit per field whose value needs decoding to be checked.
typedef struct {
    uint64_t lanes[3];
    uint64_t needs_check;
} tendril_packed_offsets_t;

/// A document class's fields as C sees them, for the match functions.
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

/// How a match ended. Any status but OK stops the walk, so later elements are not checked.
typedef enum {
    TENDRIL_MATCH_OK = 0,                 // every declared field present has an acceptable type
    TENDRIL_MATCH_WRONG_TYPE = 1,         // field `slot` cannot hold its value (at problem_offset)
    TENDRIL_MATCH_ID_NOT_OBJECT_ID = 2,   // `_id` is not an ObjectId (at problem_offset)
    TENDRIL_MATCH_MALFORMED = 3,          // the bytes are inconsistent (from problem_offset)
    TENDRIL_MATCH_INVALID = 4,            // validating found a fault: tendril_bson_validate tells which
    TENDRIL_MATCH_OFFSET_TOO_LARGE = 5,   // packed form only: an offset does not fit a 16-bit lane
} tendril_match_status_t;

/// What a match found besides its status.
typedef struct {
    int32_t id_offset;        // `_id`'s element offset, or -1
    int32_t slot;             // for TENDRIL_MATCH_WRONG_TYPE: the field
    uint32_t problem_offset;  // where the problem is, from the document's first byte
} tendril_match_outcome_t;

/// Steps to the element at *offset of `data` (`length` bytes, its header checked) and moves
/// *offset past it. Every length read is checked against the bytes left.
tendril_bson_step_t tendril_bson_next_element(const uint8_t *data, uint32_t length, uint32_t *offset,
                                              tendril_bson_element_t *element);

/// True when `data` starts with a plausible document header: its length prefix is `length`
/// (5 to INT32_MAX) and it ends in NUL.
bool tendril_bson_header_fits(const uint8_t *data, uint32_t length);

/// Checks every length, every UTF-8 string and key, and nesting no deeper than max_depth
/// (checked before recursing, so hostile nesting cannot overflow the stack). *error_offset is
/// where the fault is, from the start of `data`.
tendril_bson_validity_t tendril_bson_validate(const uint8_t *data, uint32_t length, int depth, int max_depth,
                                              uint32_t *error_offset);

/// Matches every top-level element to a field by key and checks its type byte, decoding
/// nothing. Writes each field's element offset into `offsets` (left as is when absent) and sets
/// needs_check[i] for values that must be decoded to be checked. The bytes are trusted.
tendril_match_status_t tendril_bson_match_fields(const uint8_t *data, uint32_t length, const tendril_field_table_t *table,
                                                 int32_t *offsets, uint8_t *needs_check, tendril_match_outcome_t *outcome);

/// tendril_bson_match_fields over bytes from outside: the same walk validates every element as
/// tendril_bson_validate would (bytes fresh from the network cost one walk, not two).
tendril_match_status_t tendril_bson_validate_and_match_fields(const uint8_t *data, uint32_t length,
                                                              const tendril_field_table_t *table, int32_t *offsets,
                                                              uint8_t *needs_check, int max_depth,
                                                              tendril_match_outcome_t *outcome);

/// Either match into packed lanes (`packed` is reset first; at most 12 fields): validating when
/// max_depth >= 0, trusting the bytes when it is negative.
tendril_match_status_t tendril_bson_match_fields_packed(const uint8_t *data, uint32_t length,
                                                        const tendril_field_table_t *table,
                                                        tendril_packed_offsets_t *packed, int max_depth,
                                                        tendril_match_outcome_t *outcome);

/// The nesting depth of a well-formed document: 0 when no element is a document or an array (a
/// code-with-scope scope counts as a document), else one more than its deepest such element.
/// Stops descending past `limit` levels (then returns limit + 1).
int tendril_bson_nesting_depth(const uint8_t *data, uint32_t length, int limit);

/// The offset of the first top-level element of a well-formed document whose key is the
/// `key_length` bytes at `key`, or -1 when there is none.
int64_t tendril_bson_find_key(const uint8_t *data, uint32_t length, const uint8_t *key, uint32_t key_length);

/// The number of top-level elements of a well-formed document.
int32_t tendril_bson_count_elements(const uint8_t *data, uint32_t length);

/// Where one element starts and how long its key is: what tendril_bson_element_positions finds.
typedef struct {
    uint32_t offset;
    uint32_t key_length;
} tendril_bson_position_t;

/// Walks the elements from *start up to the terminating NUL at `length - 1` (an embedded
/// document's or an array's, inside `data`), checking every size as tendril_bson_next_element
/// does, and writes the positions of the first `capacity` of them into `positions`: one walk
/// both counts an array and finds its elements.
/// Returns how many elements there are (more than `capacity` when some were not written), or
/// -1 when the bytes are malformed.
int32_t tendril_bson_element_positions(const uint8_t *data, uint32_t length, uint32_t start,
                                       tendril_bson_position_t *positions, int32_t capacity);

#endif
