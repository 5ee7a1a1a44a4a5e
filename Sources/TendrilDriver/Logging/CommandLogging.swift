import Logging

/// Logs the commands a client sends to its background logger (see
/// ``MongoClient/init(_:appName:backgroundLogger:)``): installed only when that logger's level
/// is `.debug` or lower, so a client without a logger pays nothing for it.
///
/// | level | what |
/// | --- | --- |
/// | debug | each command started (name, database, request id), succeeded (duration) or failed (error kind and code) |
/// | trace | the same, plus the command and reply documents as extended JSON, and a failure's server message |
///
/// Document contents (commands, replies, the server's messages, which may quote key values)
/// are logged at trace level only.
final class CommandLogging: CommandObserver, Sendable {
    private let logger: Logger
    private let logsDocuments: Bool

    init(logger: Logger) {
        self.logger = logger
        logsDocuments = logger.logLevel <= .trace
    }

    var observesDocuments: Bool { logsDocuments }

    func commandStarted(_ event: CommandStartedEvent) {
        log("command started", [
            "db.operation.name": "\(event.commandName)", "db.namespace": "\(event.databaseName)",
            "db.request_id": "\(event.requestID)",
        ], withDocuments: { ["db.query.text": "\(event.command.relaxedExtendedJSON)"] })
    }

    func commandSucceeded(_ event: CommandSucceededEvent) {
        log("command succeeded", [
            "db.operation.name": "\(event.commandName)", "db.request_id": "\(event.requestID)",
            "duration_us": "\(event.durationMicroseconds)",
        ], withDocuments: { ["db.reply": "\(event.reply.relaxedExtendedJSON)"] })
    }

    func commandFailed(_ event: CommandFailedEvent) {
        log("command failed", [
            "db.operation.name": "\(event.commandName)", "db.request_id": "\(event.requestID)",
            "duration_us": "\(event.durationMicroseconds)", "error.kind": "\(event.error.kind)",
            "error.code": "\(event.error.code)",
        ], withDocuments: {
            // A server's message may quote the document (a duplicate key's value): trace only.
            ["error.message": "\(event.error.message)"]
        })
    }

    /// Logs `message` at debug, or at trace with `documents`' entries added when this logger
    /// shows documents.
    private func log(_ message: Logger.Message, _ metadata: Logger.Metadata, withDocuments documents: () -> Logger.Metadata) {
        if logsDocuments {
            logger.trace(message, metadata: metadata.merging(documents()) { $1 })
        } else {
            logger.debug(message, metadata: metadata)
        }
    }
}
