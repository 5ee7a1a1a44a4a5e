#ifndef MONGO_FLOOR_H
#define MONGO_FLOOR_H
#include <stddef.h>
#include <stdint.h>

typedef struct _mongoc_client_t mongo_floor_client_t;

// A plain libmongoc client, connected (server selected, handshake done, a ping answered) so that
// a timed scan measures reading documents, not setting up. NULL with a message in `error`.
mongo_floor_client_t *mongo_floor_client_new(const char *uri, char *error, size_t error_size);
void mongo_floor_client_destroy(mongo_floor_client_t *client);

// Reads every document of `database.collection` through a plain libmongoc cursor (batches of
// `batch_size`) and walks each with libbson's iterator, touching every value as a decoder must:
// the floor that loading documents from the server is compared with. Calls `sample(context)`
// every 1,000 documents (for heap sampling; may be NULL). Returns the number of documents read,
// or -1 with a message in `error`. `checksum` accumulates so no work can be skipped.
int64_t mongo_floor_scan(mongo_floor_client_t *client, const char *database, const char *collection, int32_t batch_size,
                         uint64_t *checksum, void (*sample)(void *), void *context, char *error, size_t error_size);

#endif
