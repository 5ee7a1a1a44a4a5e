internal import CTendrilMongoC

/// A command the client sent to a server (libmongoc's APM "command started" event).
public struct CommandStartedEvent: Sendable {
    /// The command's name: `find`, `getMore`, `insert`, `killCursors`, ...
    public let commandName: String
    /// The database it ran against.
    public let databaseName: String
    /// The whole command document as sent.
    public let command: BSONDocument
    /// Pairs this event with its succeeded or failed event.
    public let requestID: Int64
    /// Groups the commands of one operation (a find and its getMores).
    public let operationID: Int64
}

/// A command that completed (libmongoc's APM "command succeeded" event).
public struct CommandSucceededEvent: Sendable {
    /// The command's name.
    public let commandName: String
    /// Pairs this event with its started event.
    public let requestID: Int64
    /// Round-trip time in microseconds.
    public let durationMicroseconds: Int64
    /// The server's reply.
    public let reply: BSONDocument
}

/// A command that failed (libmongoc's APM "command failed" event).
public struct CommandFailedEvent: Sendable {
    /// The command's name.
    public let commandName: String
    /// Pairs this event with its started event.
    public let requestID: Int64
    /// Time until the failure, in microseconds.
    public let durationMicroseconds: Int64
    /// The failure.
    public let error: MongoError
}

/// Receives the commands a ``MongoClient`` sends, as they happen.
///
/// Methods are called on the thread that ran the command, possibly several at once:
/// implementations must be thread-safe and quick. ``CommandRecorder`` is a ready-made one.
/// ```swift
/// final class SlowCommandLogger: CommandObserver {
///     func commandSucceeded(_ event: CommandSucceededEvent) {
///         if event.durationMicroseconds > 100_000 { print("slow:", event.commandName) }
///     }
/// }
/// client.addCommandObserver(SlowCommandLogger())
/// ```
public protocol CommandObserver: AnyObject, Sendable {
    /// A command was sent.
    func commandStarted(_ event: CommandStartedEvent)
    /// A command succeeded.
    func commandSucceeded(_ event: CommandSucceededEvent)
    /// A command failed.
    func commandFailed(_ event: CommandFailedEvent)
    /// Whether events should carry the command and reply documents (true by default). Return
    /// false when names, ids and durations are enough: the documents are then left empty and
    /// never copied (a `find` or `getMore` reply holds a whole batch).
    var observesDocuments: Bool { get }
}

extension CommandObserver {
    /// Ignores the event: implement only the callbacks you need.
    public func commandStarted(_ event: CommandStartedEvent) {}
    /// Ignores the event: implement only the callbacks you need.
    public func commandSucceeded(_ event: CommandSucceededEvent) {}
    /// Ignores the event: implement only the callbacks you need.
    public func commandFailed(_ event: CommandFailedEvent) {}
    /// Events carry their documents unless an observer says otherwise.
    public var observesDocuments: Bool { true }
}

/// Records every command a client sends, to count and inspect them: the way tests and
/// benchmarks prove how many queries an operation issued.
///
/// ```swift
/// let recorder = CommandRecorder()
/// client.addCommandObserver(recorder)
/// _ = try people.find([:], options: FindOptions(batchSize: 100)).toArray()
/// print(recorder.count(of: "getMore"))
/// ```
/// > Note: It keeps every command document until ``reset()``; use it for bounded runs.
public final class CommandRecorder: CommandObserver {
    private let state = Locked(State())

    private struct State {
        var started: [CommandStartedEvent] = []
        var succeeded: [CommandSucceededEvent] = []
        var failed: [CommandFailedEvent] = []
    }

    /// An empty recorder; register it with ``MongoClient/addCommandObserver(_:)``.
    public init() {}

    /// Every command sent since creation or the last ``reset()``, in order.
    public var startedEvents: [CommandStartedEvent] { state.withLock { $0.started } }
    /// Every success, in order.
    public var succeededEvents: [CommandSucceededEvent] { state.withLock { $0.succeeded } }
    /// Every failure, in order.
    public var failedEvents: [CommandFailedEvent] { state.withLock { $0.failed } }

    /// The commands named `name` (`"find"`, `"getMore"`, ...), in order.
    public func commands(named name: String) -> [BSONDocument] {
        startedEvents.filter { $0.commandName == name }.map(\.command)
    }

    /// How many commands named `name` were sent.
    public func count(of name: String) -> Int {
        state.withLock { $0.started.count { $0.commandName == name } }
    }

    /// The names of all commands sent, in order.
    public var commandNames: [String] { startedEvents.map(\.commandName) }

    /// Forgets everything recorded so far.
    public func reset() {
        state.withLock { $0 = State() }
    }

    /// Records a sent command.
    public func commandStarted(_ event: CommandStartedEvent) { state.withLock { $0.started.append(event) } }
    /// Records a success.
    public func commandSucceeded(_ event: CommandSucceededEvent) { state.withLock { $0.succeeded.append(event) } }
    /// Records a failure.
    public func commandFailed(_ event: CommandFailedEvent) { state.withLock { $0.failed.append(event) } }
}

/// Fans libmongoc's APM callbacks out to the registered observers. Events are only
/// decoded when someone listens, so an unobserved client pays one lock per command.
final class CommandEventCenter: Sendable {
    private let observers = Locked<[any CommandObserver]>([])

    func add(_ observer: any CommandObserver) {
        observers.withLock { $0.append(observer) }
    }

    func remove(_ observer: any CommandObserver) {
        observers.withLock { $0.removeAll { $0 === observer } }
    }

    private var current: [any CommandObserver] { observers.withLock { $0 } }

    /// How many observers listen (for tests).
    var observerCount: Int { observers.withLock { $0.count } }

    /// Installs the callbacks on `pool`; must happen before the first pop. The pool keeps an
    /// unretained pointer to `self`, so `self` must outlive it (``ConnectionPool`` owns both).
    func install(on pool: OpaquePointer) -> Bool {
        let callbacks = mongoc_apm_callbacks_new()
        defer { mongoc_apm_callbacks_destroy(callbacks) }
        mongoc_apm_set_command_started_cb(callbacks) { event in
            // The budget counts every command, observed or not.
            CommandSending.commandStarted()
            if let event, let operation = OperationObservation.current { CommandEventCenter.started(event, of: operation) }
            guard let event, let observers = CommandEventCenter.listening(mongoc_apm_command_started_get_context(event)) else { return }
            let started = CommandStartedEvent(
                commandName: String(cString: mongoc_apm_command_started_get_command_name(event)),
                databaseName: String(cString: mongoc_apm_command_started_get_database_name(event)),
                command: CommandEventCenter.copy(mongoc_apm_command_started_get_command(event), for: observers),
                requestID: mongoc_apm_command_started_get_request_id(event),
                operationID: mongoc_apm_command_started_get_operation_id(event))
            observers.forEach { $0.commandStarted(started) }
        }
        mongoc_apm_set_command_succeeded_cb(callbacks) { event in
            guard let event else { return }
            CommandSending.commandSucceeded(reply: mongoc_apm_command_succeeded_get_reply(event))
            OperationObservation.current?.commandSucceeded(requestID: mongoc_apm_command_succeeded_get_request_id(event))
            guard let observers = CommandEventCenter.listening(mongoc_apm_command_succeeded_get_context(event)) else { return }
            let succeeded = CommandSucceededEvent(
                commandName: String(cString: mongoc_apm_command_succeeded_get_command_name(event)),
                requestID: mongoc_apm_command_succeeded_get_request_id(event),
                durationMicroseconds: mongoc_apm_command_succeeded_get_duration(event),
                reply: CommandEventCenter.copy(mongoc_apm_command_succeeded_get_reply(event), for: observers))
            observers.forEach { $0.commandSucceeded(succeeded) }
        }
        mongoc_apm_set_command_failed_cb(callbacks) { event in
            guard let event else { return }
            var error = bson_error_t()
            mongoc_apm_command_failed_get_error(event, &error)
            OperationObservation.current?.commandFailed(requestID: mongoc_apm_command_failed_get_request_id(event),
                                                        error: MongoError(error))
            guard let observers = CommandEventCenter.listening(mongoc_apm_command_failed_get_context(event)) else { return }
            // Observation only: the failing operation throws its own error.
            let reply = mongoc_apm_command_failed_get_reply(event).flatMap { try? BSONDocument(validatingBorrowed: $0) }
            let failed = CommandFailedEvent(
                commandName: String(cString: mongoc_apm_command_failed_get_command_name(event)),
                requestID: mongoc_apm_command_failed_get_request_id(event),
                durationMicroseconds: mongoc_apm_command_failed_get_duration(event),
                error: MongoError(error, reply: reply))
            observers.forEach { $0.commandFailed(failed) }
        }
        return mongoc_client_pool_set_apm_callbacks(pool, callbacks, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Tells `operation` (tracing, metrics) that it sent the command of `event`.
    private static func started(_ event: OpaquePointer, of operation: OperationObservation) {
        let server = mongoc_apm_command_started_get_host(event).map { host in
            (address: String(cString: tendril_host_name(host)), port: Int(host.pointee.port))
        }
        operation.commandStarted(String(cString: mongoc_apm_command_started_get_command_name(event)),
                                 requestID: mongoc_apm_command_started_get_request_id(event), server: server) {
            // Shown only when the client opted in. The command is the one libmongoc is about to
            // send, built from documents Tendril validated, so it always reads; were it not to,
            // the span says why instead of showing nothing (telemetry only: nothing is lost).
            guard let command = mongoc_apm_command_started_get_command(event) else { return "" }
            do {
                return try BSONDocument(validatingBorrowed: command).relaxedExtendedJSON
            } catch {
                return "<unreadable command: \(error)>"
            }
        }
    }

    /// The observers of the center `context` points to; nil when none listens, so an
    /// unobserved event is dropped before anything is decoded.
    private static func listening(_ context: UnsafeMutableRawPointer?) -> [any CommandObserver]? {
        guard let context else { return nil }
        var observers = Unmanaged<CommandEventCenter>.fromOpaque(context).takeUnretainedValue().current
        // An operation with a logger of its own logs its commands there, not to the background logger.
        if let operation = OperationObservation.current, operation.hasOwnLogger {
            observers.removeAll { $0 is CommandLogging }
            if let logging = operation.commandLogging { observers.append(logging) }
        }
        return observers.isEmpty ? nil : observers
    }

    /// A copy of an event's command or reply when one of `observers` reads documents, else an
    /// empty document. Observation only: libmongoc sends valid BSON and the operation validates
    /// the reply it reads (and throws), so a document that were not valid would show as empty
    /// to the observer, never change what is sent or returned.
    private static func copy(_ document: OpaquePointer?, for observers: [any CommandObserver]) -> BSONDocument {
        guard observers.contains(where: \.observesDocuments), let document else { return BSONDocument() }
        return (try? BSONDocument(validatingBorrowed: document)) ?? BSONDocument()
    }
}
