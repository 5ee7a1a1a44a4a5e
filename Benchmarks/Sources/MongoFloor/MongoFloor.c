#include "MongoFloor.h"
#include "BSONFloor.h"
#include <mongoc/mongoc.h>
#include <stdio.h>

mongo_floor_client_t *mongo_floor_client_new(const char *uri, char *error, size_t error_size) {
    mongoc_init();
    bson_error_t bson_error;
    mongoc_uri_t *parsed = mongoc_uri_new_with_error(uri, &bson_error);
    if (!parsed) {
        snprintf(error, error_size, "%s", bson_error.message);
        return NULL;
    }
    mongoc_client_t *client = mongoc_client_new_from_uri(parsed);
    mongoc_uri_destroy(parsed);
    if (!client) {
        snprintf(error, error_size, "cannot create a client");
        return NULL;
    }
    bson_t ping = BSON_INITIALIZER;
    BSON_APPEND_INT32(&ping, "ping", 1);
    bool answered = mongoc_client_command_simple(client, "admin", &ping, NULL, NULL, &bson_error);
    bson_destroy(&ping);
    if (!answered) {
        snprintf(error, error_size, "%s", bson_error.message);
        mongoc_client_destroy(client);
        return NULL;
    }
    return client;
}

void mongo_floor_client_destroy(mongo_floor_client_t *client) {
    mongoc_client_destroy(client);
}

int64_t mongo_floor_scan(mongo_floor_client_t *client, const char *database, const char *collection, int32_t batch_size,
                         uint64_t *checksum, void (*sample)(void *), void *context, char *error, size_t error_size) {
    bson_error_t bson_error;
    mongoc_collection_t *handle = mongoc_client_get_collection(client, database, collection);
    bson_t filter = BSON_INITIALIZER;
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_INT32(&opts, "batchSize", batch_size);
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(handle, &filter, &opts, NULL);
    const bson_t *document = NULL;
    int64_t count = 0;
    while (mongoc_cursor_next(cursor, &document)) {
        *checksum += bson_floor_walk_document(bson_get_data(document), document->len);
        count++;
        if (sample && count % 1000 == 0) {
            sample(context);
        }
    }
    if (mongoc_cursor_error(cursor, &bson_error)) {
        snprintf(error, error_size, "%s", bson_error.message);
        count = -1;
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(handle);
    return count;
}
