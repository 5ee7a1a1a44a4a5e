internal import CTendrilMongoC

/// `mongoc_init` must run once per process before anything else in libmongoc.
private let libmongocInitialized: Void = { mongoc_init() }()

/// The one owner of a `mongoc_client_pool_t` and its URI.
///
/// `@unchecked Sendable`: libmongoc documents the pool as thread-safe; the popped
/// `mongoc_client_t`s are not, so each is used by one caller between pop and push.
final class ConnectionPool: @unchecked Sendable {
    /// How long a pop may wait for a free connection when the URI does not say.
    static let defaultWaitQueueTimeoutMS: Int32 = 30_000

    let pool: OpaquePointer
    let events = CommandEventCenter()
    private let uri: OpaquePointer

    init(uri uriString: String, appName: String?) throws {
        _ = libmongocInitialized
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(uriString, &error) else {
            throw MongoError(kind: .invalidArgument, domain: error.domain, code: error.code,
                             message: "invalid MongoDB URI: \(error.messageText)")
        }
        // Without a wait-queue timeout, mongoc_client_pool_pop blocks forever on an exhausted pool.
        if !mongoc_uri_has_option(uri, MONGOC_URI_WAITQUEUETIMEOUTMS) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, Self.defaultWaitQueueTimeoutMS)
        }
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            mongoc_uri_destroy(uri)
            throw MongoError(kind: .invalidArgument, domain: error.domain, code: error.code,
                             message: "cannot create a client pool: \(error.messageText)")
        }
        // Every fallible step comes before the handles are stored: once all stored properties
        // are set, a throwing init runs deinit, which destroys them.
        if let appName, !mongoc_client_pool_set_appname(pool, appName) {
            mongoc_client_pool_destroy(pool)
            mongoc_uri_destroy(uri)
            throw MongoError(kind: .invalidArgument,
                             message: "invalid application name (at most 128 bytes): \(appName.debugDescription)")
        }
        mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2))
        self.uri = uri
        self.pool = pool
        events.install(on: pool)
    }

    /// Takes a client out of the pool; waits at most `waitQueueTimeoutMS`.
    /// > Note: blocks: never call it on Swift's cooperative pool.
    func pop() throws -> OpaquePointer {
        guard let client = mongoc_client_pool_pop(pool) else {
            let timeout = mongoc_uri_get_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, 0)
            throw MongoError(kind: .connectionPoolTimeout,
                             message: "no pooled connection became free within waitQueueTimeoutMS=\(timeout)")
        }
        return client
    }

    func push(_ client: OpaquePointer) {
        mongoc_client_pool_push(pool, client)
    }

    /// Lends a client to `body` and returns it to the pool afterwards, whatever happens.
    func withClient<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        let client = try pop()
        defer { push(client) }
        return try body(client)
    }

    deinit {
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }
}
