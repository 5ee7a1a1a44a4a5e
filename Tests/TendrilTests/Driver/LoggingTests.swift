import Logging
import Testing
@testable import TendrilDriver

/// A `LogHandler` that keeps every entry, for assertions.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
        /// Message and metadata as one text, to search for document contents.
        var text: String { "\(message) \(metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
    }

    private let entriesLock = Locked<[Entry]>([])
    var entries: [Entry] { entriesLock.withLock { $0 } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(level: Logger.Level) { logLevel = level }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        entriesLock.withLock { $0.append(Entry(level: level, message: "\(message)", metadata: self.metadata.merging(metadata ?? [:]) { $1 })) }
    }

    /// A logger writing to a new handler at `level`, and the handler.
    static func logger(level: Logger.Level) -> (Logger, RecordingLogHandler) {
        let handler = RecordingLogHandler(level: level)
        return (Logger(label: "test", factory: { _ in handler }), handler)
    }
}

// Serialized: libmongoc's messages go to the most recently created client's logger.
@Suite("Logging", .serialized)
struct LoggingTests {
    /// Inserts a document holding `marker` and finds it, on a client logging to `logger`.
    static func insertAndFind(_ marker: String, logger: Logger) async throws {
        let client = try MongoClient(try TestServer.uri(), backgroundLogger: logger)
        let collection = client.database("tendril_test_logging_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)).collection("things")
        try await collection.insertOne(["secret": .string(marker)])
        _ = try await collection.findOne(["secret": .string(marker)])
        try await client.database(collection.database.name).drop()
    }

    @Test("at debug: each command's name, database and duration, never a document's contents")
    func debugLogsCommandsWithoutDocuments() async throws {
        let (logger, handler) = RecordingLogHandler.logger(level: .debug)
        let marker = "marker-\(UInt64.random(in: 0...UInt64.max))"
        try await Self.insertAndFind(marker, logger: logger)
        let started = handler.entries.filter { $0.message == "command started" }
        #expect(started.contains { $0.level == .debug && $0.metadata["db.operation.name"] == "insert" })
        #expect(started.contains { $0.level == .debug && $0.metadata["db.operation.name"] == "find" })
        #expect(handler.entries.contains { $0.message == "command succeeded" && $0.metadata["duration_us"] != nil })
        #expect(!handler.entries.contains { $0.text.contains(marker) }, "a document's contents at debug")
        #expect(!handler.entries.contains { $0.level == .trace })
    }

    @Test("at trace: the command and reply documents too")
    func traceLogsDocuments() async throws {
        let (logger, handler) = RecordingLogHandler.logger(level: .trace)
        let marker = "marker-\(UInt64.random(in: 0...UInt64.max))"
        try await Self.insertAndFind(marker, logger: logger)
        #expect(handler.entries.contains { $0.level == .trace && $0.message == "command started" && $0.text.contains(marker) })
        #expect(handler.entries.contains { $0.level == .trace && $0.message == "command succeeded" && $0.text.contains(marker) })
    }

    @Test("a failed command logs its kind and code at debug, the server's message (which may quote values) at trace only")
    func failedCommands() async throws {
        for level in [Logger.Level.debug, .trace] {
            let (logger, handler) = RecordingLogHandler.logger(level: level)
            let client = try MongoClient(try TestServer.uri(), backgroundLogger: logger)
            let database = client.database("tendril_test_logging_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
            // An unknown pipeline stage: the server answers ok: 0 (write errors, by contrast,
            // arrive in a succeeded reply).
            let collection = database.collection("things")
            try await collection.insertOne(["n": 1])
            await #expect(throws: MongoError.self) { _ = try await collection.aggregate([["$noSuchStage": ["n": 1]]]).toArray() }
            let failed = try #require(handler.entries.first { $0.message == "command failed" })
            #expect(failed.metadata["db.operation.name"] == "aggregate" && failed.metadata["error.code"] != nil)
            #expect((failed.metadata["error.message"] != nil) == (level == .trace))
            try await database.drop()
        }
    }

    @Test("libmongoc's own messages go to the newest client's background logger, at debug")
    func libmongocMessages() throws {
        let (logger, handler) = RecordingLogHandler.logger(level: .debug)
        // libmongoc warns about an unknown URI option while parsing the URI.
        _ = try MongoClient(try TestServer.uri(adding: "tendrilUnknownOption=1"), backgroundLogger: logger)
        let warning = handler.entries.first { $0.metadata["libmongoc.level"] == "WARNING" }
        #expect(warning?.level == .debug)
        #expect(warning?.message.lowercased().contains("tendrilunknownoption") == true, "\(handler.entries.map(\.text))")
    }

    @Test("a client without a logger installs no command logging")
    func noLoggerNoObserver() throws {
        let client = try MongoClient(try TestServer.uri())
        #expect(client.backgroundLogger.logLevel > .debug)
        #expect(client.pool.events.observerCount == 0)
    }

    @Test("an operation's logger: logs its commands instead of the background logger, without documents at debug")
    func operationLogger() async throws {
        let (background, backgroundHandler) = RecordingLogHandler.logger(level: .debug)
        let (request, requestHandler) = RecordingLogHandler.logger(level: .debug)
        let client = try MongoClient(try TestServer.uri(), backgroundLogger: background)
        let database = client.database("tendril_test_logging_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        let marker = "marker-\(UInt64.random(in: 0...UInt64.max))"
        try await database.collection("things").insertOne(["secret": .string(marker)], logger: request)
        let cursor = try await database.collection("things").find(["secret": .string(marker)], logger: request)
        for try await _ in cursor {}
        try await database.drop()

        let requestCommands = requestHandler.entries.filter { $0.message == "command started" }.compactMap { $0.metadata["db.operation.name"] }
        #expect(requestCommands == ["insert", "find"], "find is sent at the first read, still to the cursor's logger")
        #expect(!requestHandler.entries.contains { $0.text.contains(marker) })
        let backgroundCommands = backgroundHandler.entries.filter { $0.message == "command started" }.compactMap { $0.metadata["db.operation.name"] }
        #expect(backgroundCommands == ["dropDatabase"])
    }

    @Test("without logger:, the task's logger (swift-log's withLogger) logs the operation's commands")
    func taskLogger() async throws {
        let (background, backgroundHandler) = RecordingLogHandler.logger(level: .debug)
        let (task, taskHandler) = RecordingLogHandler.logger(level: .debug)
        let client = try MongoClient(try TestServer.uri(), backgroundLogger: background)
        let collection = client.database("tendril_test_logging_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)).collection("things")
        try await withLogger(task) { _ in
            _ = try await collection.countDocuments()
        }
        try await collection.database.drop()
        #expect(taskHandler.entries.contains { $0.message == "command started" && $0.metadata["db.operation.name"] == "aggregate" })
        #expect(!backgroundHandler.entries.contains { $0.metadata["db.operation.name"] == "aggregate" })
    }
}
