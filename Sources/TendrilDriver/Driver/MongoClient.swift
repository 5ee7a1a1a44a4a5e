public import Logging
public import Metrics

/// A connection to MongoDB: a pool of connections shared safely by every thread and task.
///
/// ```swift
/// let client = try MongoClient("mongodb://127.0.0.1:27017/?serverSelectionTimeoutMS=2000")
/// let people = client.database("app").collection("people")
/// try people.insertOne(["name": "Ada"])
/// let ada = try await people.findOne(["name": "Ada"])   // async: runs off the cooperative pool
/// ```
///
/// Every operation borrows a connection from libmongoc's `mongoc_client_pool_t` and returns it
/// when done, so one `MongoClient` serves a whole program. Connection settings come from the URI
/// (`maxPoolSize`, `waitQueueTimeoutMS`, `serverSelectionTimeoutMS`, `socketTimeoutMS`,
/// `replicaSet`, `retryWrites`, TLS, credentials...).
/// > Note: `MongoClient` is `Sendable` and thread-safe. Blocking methods wait on the network;
/// from async code call the `async` variants, which run on Tendril's own threads. When the URI
/// sets no positive `waitQueueTimeoutMS` (libmongoc reads 0 as "wait forever"), Tendril sets
/// 30 seconds, so an exhausted pool throws ``MongoError/Kind/connectionPoolTimeout`` instead.
public final class MongoClient: Sendable {
    let pool: ConnectionPool

    /// How long ``shutdown(gracePeriod:)`` lets operations in flight finish by default.
    public let shutdownGracePeriod: Duration

    /// What the client logs, and libmongoc's messages (see "Logging" in `docs/driver.md`);
    /// a no-op logger unless one was given.
    public let backgroundLogger: Logger

    /// Connects lazily: nothing is sent until the first operation.
    ///
    /// ```swift
    /// var logger = Logger(label: "app.mongo")
    /// logger.logLevel = .debug     // each command's name, database and duration; no documents
    /// let client = try MongoClient("mongodb://127.0.0.1:27017/", backgroundLogger: logger,
    ///                               tracing: .enabled())   // spans per MongoDB's OpenTelemetry spec
    /// ```
    /// - Parameters:
    ///   - uri: a MongoDB connection string.
    ///   - appName: shown in server logs and `currentOp` (at most 128 bytes); the same as the
    ///     URI's `appname` option, so give it in one place only.
    ///   - backgroundLogger: where the client logs its commands (at `.debug`, without document
    ///     contents; with them at `.trace`) and libmongoc's own messages; by default nowhere.
    ///   - tracing: whether operations and commands start spans (``MongoTracing``); off by default.
    ///   - metricsFactory: where `db.client.operation.duration` goes; by default the factory the
    ///     program bootstrapped with `MetricsSystem.bootstrap` (none: nothing is recorded).
    ///   - shutdownGracePeriod: how long a shutdown lets operations in flight finish.
    /// - Throws: ``MongoError`` `.invalidArgument` for an invalid URI or application name.
    public init(_ uri: String, appName: String? = nil, backgroundLogger: Logger = MongoClient.noOpLogger,
                tracing: MongoTracing = .disabled, metricsFactory: (any MetricsFactory)? = nil,
                shutdownGracePeriod: Duration = .seconds(10)) throws {
        self.backgroundLogger = backgroundLogger
        let logs = backgroundLogger.logLevel <= .debug
        // Before the pool: creating it may already log (an unsupported URI option).
        if logs { LibmongocLogging.route(to: backgroundLogger) } else { LibmongocLogging.install() }
        self.shutdownGracePeriod = shutdownGracePeriod
        pool = try ConnectionPool(uri: uri, appName: appName,
                                  telemetry: Telemetry(tracing: tracing, metricsFactory: metricsFactory))
        if logs { pool.events.add(CommandLogging(logger: backgroundLogger)) }
    }

    /// Whether, and how, this client traces its operations.
    public var tracing: MongoTracing { pool.telemetry.tracing }

    /// Where this client's metrics go now (the factory it was given, else the bootstrapped one).
    package var metricsFactory: any MetricsFactory { pool.telemetry.metricsFactory }

    /// The default background logger: logs nothing (the pattern of PostgresNIO and others).
    public static let noOpLogger = Logger(label: "tendril.noop", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The database named `name` (created by MongoDB on first write).
    public func database(_ name: String) -> MongoDatabase {
        MongoDatabase(client: self, name: name)
    }

    /// Starts delivering every command this client sends to `observer` (see ``CommandRecorder``).
    public func addCommandObserver(_ observer: any CommandObserver) {
        pool.events.add(observer)
    }

    /// Stops delivering commands to `observer`.
    public func removeCommandObserver(_ observer: any CommandObserver) {
        pool.events.remove(observer)
    }

    /// The names of all databases on the server.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await client.listDatabaseNames()")
    public func listDatabaseNames() throws -> [String] {
        let reply = try database("admin").runCommand(["listDatabases": 1, "nameOnly": true])
        return (reply["databases"]?.arrayValue ?? []).compactMap { $0.documentValue?["name"]?.stringValue }
    }

    /// The names of all databases on the server.
    /// - Throws: ``MongoError``.
    public func listDatabaseNames() async throws -> [String] {
        try await BlockingExecutor.shared.run { try self.listDatabaseNames() }
    }
}
