#include "BSONFloor.h"
#include <bson/bson.h>

uint64_t bson_floor_walk_document(const uint8_t *data, uint32_t length) {
    uint64_t checksum = 0;
    bson_iter_t iter;
    if (!bson_iter_init_from_data(&iter, data, length)) {
        return 0;
    }
    while (bson_iter_next(&iter)) {
        checksum += bson_iter_key_len(&iter);
        switch (bson_iter_type(&iter)) {
        case BSON_TYPE_UTF8: {
            uint32_t length = 0;
            const char *text = bson_iter_utf8(&iter, &length);
            checksum += length + (uint8_t)text[0];
            break;
        }
        case BSON_TYPE_INT32: checksum += (uint64_t)bson_iter_int32(&iter); break;
        case BSON_TYPE_INT64: checksum += (uint64_t)bson_iter_int64(&iter); break;
        case BSON_TYPE_DOUBLE: checksum += (uint64_t)bson_iter_double(&iter); break;
        case BSON_TYPE_BOOL: checksum += bson_iter_bool(&iter); break;
        case BSON_TYPE_DATE_TIME: checksum += (uint64_t)bson_iter_date_time(&iter); break;
        case BSON_TYPE_OID: checksum += bson_iter_oid(&iter)->bytes[11]; break;
        case BSON_TYPE_ARRAY: {
            uint32_t length = 0;
            const uint8_t *array = NULL;
            bson_iter_array(&iter, &length, &array);
            checksum += length;
            break;
        }
        default: break;
        }
    }
    return checksum;
}

uint64_t bson_floor_walk(const uint8_t *data, const uint32_t *offsets, const uint32_t *lengths, size_t count) {
    uint64_t checksum = 0;
    for (size_t index = 0; index < count; index++) {
        checksum += bson_floor_walk_document(data + offsets[index], lengths[index]);
    }
    return checksum;
}
