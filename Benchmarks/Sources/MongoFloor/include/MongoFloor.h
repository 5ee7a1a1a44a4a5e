#ifndef MONGO_FLOOR_H
#define MONGO_FLOOR_H
#include <stddef.h>
#include <stdint.h>

// Reads every document of `database.collection` through a plain libmongoc cursor (batches of
// `batch_size`) and walks each with libbson's iterator as bson_floor_walk does: the floor that
// loading documents from the server is compared with. Returns the number of documents read, or
// -1 with a message in `error`. `field_count` receives a checksum so no work is skipped.
int64_t mongo_floor_scan(const char *uri, const char *database, const char *collection, int32_t batch_size,
                         uint64_t *checksum, char *error, size_t error_size);

#endif
