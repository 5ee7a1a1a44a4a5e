internal import CTendrilMongoC

/// `mongoc_init` must run once per process before anything else in libmongoc.
private let libmongocInitialized: Void = { mongoc_init() }()

/// The one owner of a `mongoc_client_pool_t` and its URI.
///
/// `@unchecked Sendable`: libmongoc documents the pool as thread-safe; the popped
/// `mongoc_client_t`s are not, so each is used by one caller between pop and push.
final class ConnectionPool: @unchecked Sendable {
    /// How long a pop may wait for a free connection when the URI sets no positive limit.
    static let defaultWaitQueueTimeoutMS: Int32 = 30_000

    private let pool: OpaquePointer
    let events = CommandEventCenter()
    private let uri: OpaquePointer
    /// What is lent out; closed at shutdown.
    let gate = ClientGate()
    /// The client's tracing switch and metrics factory.
    let telemetry: Telemetry
    /// Set (under the gate's lock) once shutdown destroyed the libmongoc pool.
    private var destroyed = false

    /// The effective wait-queue timeout: the URI's when positive, else the default.
    let waitQueueTimeoutMS: Int32

    init(uri uriString: String, appName: String?, telemetry: Telemetry = Telemetry()) throws {
        _ = libmongocInitialized
        // Both reach libmongoc as C strings: a NUL would silently cut them short.
        guard !uriString.utf8.contains(0) else {
            throw MongoError(kind: .invalidArgument, message: "the MongoDB URI contains a NUL byte")
        }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(uriString, &error) else {
            throw MongoError(kind: .invalidArgument, domain: error.domain, code: error.code,
                             message: "invalid MongoDB URI: \(error.messageText)")
        }
        // mongoc_client_pool_pop waits forever unless waitQueueTimeoutMS is positive (0 and
        // negative values mean "no limit" to libmongoc), so those are replaced by the default.
        var waitQueueTimeoutMS = mongoc_uri_get_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, 0)
        if waitQueueTimeoutMS <= 0 {
            waitQueueTimeoutMS = Self.defaultWaitQueueTimeoutMS
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_WAITQUEUETIMEOUTMS, waitQueueTimeoutMS)
        }
        if let appName {
            if let problem = Self.appNameProblem(appName, uri: uri) {
                mongoc_uri_destroy(uri)
                throw MongoError(kind: .invalidArgument, message: problem)
            }
        }
        // Every fallible step comes before the handles are stored: once all stored properties
        // are set, a throwing init runs deinit, which destroys them.
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            mongoc_uri_destroy(uri)
            throw MongoError(kind: .invalidArgument, domain: error.domain, code: error.code,
                             message: "cannot create a client pool: \(error.messageText)")
        }
        // Both setters fail only after the first pop; checked all the same, before storing.
        guard mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2)), events.install(on: pool) else {
            mongoc_client_pool_destroy(pool)
            mongoc_uri_destroy(uri)
            throw MongoError(kind: .client, message: "libmongoc refused to configure the new client pool")
        }
        self.uri = uri
        self.pool = pool
        self.telemetry = telemetry
        self.waitQueueTimeoutMS = waitQueueTimeoutMS
    }

    /// Sets `appName` on the URI, or says why it cannot be used.
    private static func appNameProblem(_ appName: String, uri: OpaquePointer) -> String? {
        if let existing = mongoc_uri_get_appname(uri) {
            let inURI = String(cString: existing)
            return inURI == appName ? nil
                : "the application name is given twice: appname=\(inURI) in the URI and \(appName.debugDescription)"
        }
        guard !appName.utf8.contains(0), mongoc_uri_set_appname(uri, appName) else {
            return "invalid application name (at most 128 bytes, no NUL): \(appName.debugDescription)"
        }
        return nil
    }

    /// Takes a client out of the pool; waits at most `waitQueueTimeoutMS`.
    /// - Throws: ``MongoError`` `.clientShutDown` once the client shuts down,
    ///   `.connectionPoolTimeout`.
    /// > Note: blocks: never call it on Swift's cooperative pool.
    func pop() throws -> OpaquePointer {
        try gate.lend()
        guard let client = mongoc_client_pool_pop(pool) else {
            gate.giveBack()
            throw MongoError(kind: .connectionPoolTimeout,
                             message: "no pooled connection became free within waitQueueTimeoutMS=\(waitQueueTimeoutMS)")
        }
        return client
    }

    func push(_ client: OpaquePointer) {
        mongoc_client_pool_push(pool, client)
        gate.giveBack()
    }

    /// Destroys the libmongoc pool (closing its connections) if the gate is closed and every
    /// client is back: no pop can reach it afterwards. True when it is destroyed.
    func destroyIfIdle() -> Bool {
        gate.whenNoConnectionIsLent {
            guard !destroyed else { return }
            destroyed = true
            mongoc_client_pool_destroy(pool)
        }
    }

    /// Lends a client to `body` and returns it to the pool afterwards, whatever happens.
    func withClient<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        let client = try pop()
        defer { push(client) }
        return try body(client)
    }

    deinit {
        if !destroyed { mongoc_client_pool_destroy(pool) }
        mongoc_uri_destroy(uri)
    }
}
