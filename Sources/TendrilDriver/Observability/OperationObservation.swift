import Logging
import Metrics
import Tracing

/// One operation as tracing and metrics see it: its span (when the client traces), the spans
/// of the commands it sends, and its `db.client.operation.duration`.
///
/// `@unchecked Sendable`: bound with a task-local for one synchronous call and touched only by
/// that call's thread (the call and the libmongoc command callbacks it runs).
final class OperationObservation: @unchecked Sendable {
    /// The operation running on this thread, if it is one.
    @TaskLocal static var current: OperationObservation?

    private let telemetry: Telemetry
    private let tracer: (any Tracer)?
    private let span: (any Span)?
    private let name: String
    private let database: String
    private let collection: String?
    private var server: (address: String, port: Int)?
    /// The spans of the commands in flight, by request id.
    private var commandSpans: [Int64: any Span] = [:]
    /// Whether the operation has a logger of its own, which then logs its commands instead of
    /// the client's background logger.
    let hasOwnLogger: Bool
    /// The operation's command logging, when its own logger shows `.debug`.
    let commandLogging: CommandLogging?

    private init(_ name: String, database: String, collection: String?, cursorID: Int64?, telemetry: Telemetry, logger: Logger?) {
        let logger = logger ?? Self.taskLogger
        hasOwnLogger = logger != nil
        commandLogging = logger.flatMap { $0.logLevel <= .debug ? CommandLogging(logger: $0) : nil }
        self.name = name
        self.database = database
        self.collection = collection
        self.telemetry = telemetry
        tracer = telemetry.tracing.activeTracer
        // The context was captured before the hop to this thread (see BlockingExecutor).
        span = tracer.map { tracer in
            let span = tracer.startSpan(Self.summary(name, database, collection), context: ServiceContext.current ?? .topLevel,
                                        ofKind: .client)
            span.attributes[TelemetryName.summary] = Self.summary(name, database, collection)
            span.attributes[TelemetryName.operation] = name
            Self.setNamespace(on: span, database: database, collection: collection)
            if let cursorID { span.attributes[TelemetryName.cursorID] = cursorID }
            return span
        }
    }

    /// Runs `body`, the synchronous operation `name` on `database`.`collection`, under a span
    /// and a duration measurement.
    /// `logger`, else the task's (see ``taskLogger``), logs its commands.
    static func run<Result>(_ name: String, database: String, collection: String?, telemetry: Telemetry,
                            cursorID: Int64? = nil, logger: Logger? = nil, _ body: () throws -> Result) throws -> Result {
        let started = ContinuousClock.now
        let observation = OperationObservation(name, database: database, collection: collection, cursorID: cursorID,
                                               telemetry: telemetry, logger: logger)
        do {
            let result = try $current.withValue(observation) { try body() }
            observation.finish(duration: ContinuousClock.now - started, error: nil)
            return result
        } catch {
            observation.finish(duration: ContinuousClock.now - started, error: error)
            throw error
        }
    }

    /// The logger the task bound with swift-log's `withLogger(_:_:)` (carried to Tendril's
    /// threads by ``BlockingExecutor``), or nil: swift-log's unbound default has an empty label.
    static var taskLogger: Logger? {
        let logger = Logger.current
        return logger.label.isEmpty ? nil : logger
    }

    /// `find app.people`, or `listCollections app` for a database command.
    static func summary(_ name: String, _ database: String, _ collection: String?) -> String {
        collection.map { "\(name) \(database).\($0)" } ?? "\(name) \(database)"
    }

    private static func setNamespace(on span: any Span, database: String, collection: String?) {
        span.attributes[TelemetryName.system] = "mongodb"
        span.attributes[TelemetryName.namespace] = database
        if let collection { span.attributes[TelemetryName.collection] = collection }
    }

    private func finish(duration: Duration, error: (any Error)?) {
        if let span {
            if let error { Self.record(error, on: span) }
            span.end()
        }
        var dimensions = [(TelemetryName.system, "mongodb"), (TelemetryName.namespace, database),
                          (TelemetryName.operation, name), (TelemetryName.summary, Self.summary(name, database, collection))]
        if let collection { dimensions.append((TelemetryName.collection, collection)) }
        if let server {
            dimensions.append((TelemetryName.serverAddress, server.address))
            dimensions.append((TelemetryName.serverPort, "\(server.port)"))
        }
        if let error { dimensions.append(contentsOf: Self.errorDimensions(error)) }
        let (seconds, attoseconds) = duration.components
        CoreMetrics.Timer(label: TelemetryName.operationDuration, dimensions: dimensions, factory: telemetry.metricsFactory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// `error.type` (the ``MongoError`` kind, else the error's type) and, for an error the
    /// server answered, `db.response.status_code`.
    private static func errorDimensions(_ error: any Error) -> [(String, String)] {
        guard let error = error as? MongoError else { return [(TelemetryName.errorType, "\(type(of: error))")] }
        var dimensions = [(TelemetryName.errorType, error.kind.rawValue)]
        if [.command, .write, .writeConcern].contains(error.kind) { dimensions.append((TelemetryName.statusCode, "\(error.code)")) }
        return dimensions
    }

    private static func record(_ error: any Error, on span: any Span) {
        span.recordError(error)
        for (name, value) in errorDimensions(error) { span.attributes[name] = value }
        span.setStatus(SpanStatus(code: .error))
    }

    // MARK: Commands (called from libmongoc's callbacks, on the operation's thread)

    /// A command of this operation was sent: its span starts, a child of the operation's.
    /// `command` gives the command as extended JSON, read only when the client shows it.
    func commandStarted(_ commandName: String, requestID: Int64, server: (address: String, port: Int)?,
                        command: () -> String) {
        if let server { self.server = server }
        guard let tracer, let span else { return }
        let commandSpan = tracer.startSpan(commandName, context: span.context, ofKind: .client)
        Self.setNamespace(on: commandSpan, database: database, collection: collection)
        commandSpan.attributes[TelemetryName.command] = commandName
        commandSpan.attributes[TelemetryName.requestID] = requestID
        if let server {
            for target in [span, commandSpan] {
                target.attributes[TelemetryName.serverAddress] = server.address
                target.attributes[TelemetryName.serverPort] = server.port
            }
        }
        if telemetry.tracing.includesQueryText {
            commandSpan.attributes[TelemetryName.queryText] = String(command().prefix(telemetry.tracing.queryTextMaxLength))
        }
        commandSpans[requestID] = commandSpan
    }

    /// The command with `requestID` answered: its span ends.
    func commandSucceeded(requestID: Int64) {
        commandSpans.removeValue(forKey: requestID)?.end()
    }

    /// The command with `requestID` failed: its span records `error` and ends.
    func commandFailed(requestID: Int64, error: MongoError) {
        guard let commandSpan = commandSpans.removeValue(forKey: requestID) else { return }
        Self.record(error, on: commandSpan)
        commandSpan.end()
    }
}
