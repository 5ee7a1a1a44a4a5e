internal import CTendrilMongoC

/// An error from the driver: what failed, with libmongoc's domain, code and message.
///
/// ```swift
/// do {
///     try people.insertOne(["_id": 1, "name": "Ada"])
/// } catch let error as MongoError where error.isDuplicateKey {
///     print("already there:", error.message)
/// } catch let error as MongoError where error.kind == .serverSelection {
///     print("no server reachable within serverSelectionTimeoutMS")
/// }
/// ```
public struct MongoError: Error, Sendable, CustomStringConvertible {
    /// The category of failure, derived from libmongoc's error domain and code.
    public enum Kind: String, Sendable, Equatable {
        /// No suitable server answered within `serverSelectionTimeoutMS`.
        case serverSelection
        /// A socket failed: connect, read, write, hang-up or timeout.
        case network
        /// The server sent something libmongoc could not understand.
        case `protocol`
        /// Authentication failed.
        case authentication
        /// The server rejected a command (the `code` is the server's error code).
        case command
        /// The server rejected one or more writes (see `reply["writeErrors"]`; ``isDuplicateKey``).
        case write
        /// The write happened but its write concern was not satisfied.
        case writeConcern
        /// A document could not be encoded or decoded.
        case bson
        /// An argument is invalid: a bad URI, option, name or document.
        case invalidArgument
        /// No pooled connection became free within `waitQueueTimeoutMS`.
        case connectionPoolTimeout
        /// A cursor was misused or failed (for example CursorNotFound from the server).
        case cursor
        /// Anything else libmongoc reports.
        case client
        /// The client is shutting down (``MongoClient/shutdown(gracePeriod:)``, or its service's
        /// graceful shutdown): it starts no new operation.
        case clientShutDown
    }

    /// The category of failure.
    public let kind: Kind
    /// libmongoc's error domain (`MONGOC_ERROR_*`), or 0 for errors raised by Tendril itself.
    public let domain: UInt32
    /// libmongoc's or the server's error code.
    public let code: UInt32
    /// The message, as libmongoc or the server wrote it.
    public let message: String
    /// The server's reply or error document, when there was one.
    public let reply: BSONDocument?
    /// True when a write failed in a way that leaves unknown whether the server applied it: the
    /// connection broke or timed out after the write may have been sent, and no acknowledgement
    /// came back (libmongoc had already retried once where retryable writes apply).
    ///
    /// Retry only writes that are idempotent. A single `Document.save()`, `insert()` or
    /// `upsert()` is: a document keeps its pending changes and, for an insert, the `_id` it
    /// tried, so a second call stores it once. (A save of a class with a `.version` field whose
    /// first attempt landed reports a version conflict instead; bulk retries report the
    /// documents already stored as duplicates. See docs/documents.md.)
    ///
    /// ```swift
    /// do { try await order.save() }
    /// catch let error as MongoError where error.isWriteOutcomeUnknown { try await order.save() }
    /// ```
    public let isWriteOutcomeUnknown: Bool

    /// Creates an error; Tendril's own errors use domain 0.
    public init(kind: Kind, domain: UInt32 = 0, code: UInt32 = 0, message: String, reply: BSONDocument? = nil,
                isWriteOutcomeUnknown: Bool = false) {
        self.kind = kind
        self.domain = domain
        self.code = code
        self.message = message
        self.reply = reply
        self.isWriteOutcomeUnknown = isWriteOutcomeUnknown
    }

    /// True when a unique index rejected the write (server codes 11000, 11001, 12582).
    public var isDuplicateKey: Bool {
        let duplicateCodes: Set<Int> = [11000, 11001, 12582]
        // Only server-reported codes mean this; libmongoc's own domains reuse small numbers.
        if domain == MONGOC_ERROR_SERVER.rawValue, duplicateCodes.contains(Int(code)) { return true }
        let writeErrors = reply?["writeErrors"]?.arrayValue ?? []
        return writeErrors.contains { duplicateCodes.contains($0.documentValue?["code"]?.intValue ?? 0) }
    }

    /// For a duplicate key, the unique index's key pattern when the server reports it
    /// (MongoDB 4.2+ does, in `keyPattern`).
    public var duplicateKeyPattern: BSONDocument? {
        guard isDuplicateKey else { return nil }
        if let pattern = reply?["keyPattern"]?.documentValue { return pattern }
        let writeErrors = reply?["writeErrors"]?.arrayValue ?? []
        return writeErrors.lazy.compactMap { $0.documentValue?["keyPattern"]?.documentValue }.first
    }

    /// The server's error labels, such as `RetryableWriteError` or `TransientTransactionError`.
    public var errorLabels: [String] {
        (reply?["errorLabels"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The kind, domain, code and message.
    public var description: String {
        let outcome = isWriteOutcomeUnknown ? " (the write may or may not have been applied)" : ""
        return "MongoError.\(kind.rawValue) (domain \(domain), code \(code)): \(message)\(outcome)"
    }
}

/// Runs a write, marking a failure that leaves its outcome unknown as
/// ``MongoError/isWriteOutcomeUnknown``: a socket error (a hang-up or a timeout after the request
/// may have left; a connection that failed before sending reads the same, and is marked too, the
/// safe reading), also when the reply had write errors from an earlier batch, and any error
/// labelled `RetryableWriteError` (libmongoc retried after a first attempt that may have been
/// applied). Server selection failures, refused arguments and an exhausted pool happen before
/// anything is sent and stay known.
func performWrite<R>(_ write: () throws -> R) throws -> R {
    do {
        return try write()
    } catch let error as MongoError
                where error.domain == MONGOC_ERROR_STREAM.rawValue || error.errorLabels.contains("RetryableWriteError") {
        throw MongoError(kind: error.kind, domain: error.domain, code: error.code, message: error.message,
                         reply: error.reply, isWriteOutcomeUnknown: true)
    }
}

extension MongoError {
    /// Maps libmongoc's error (error API version 2, set on every pool): server-reported errors
    /// come in `MONGOC_ERROR_SERVER` or `MONGOC_ERROR_WRITE_CONCERN` with the server's code;
    /// every other domain carries libmongoc's own codes.
    init(_ error: bson_error_t, reply: BSONDocument? = nil) {
        let domain = error.domain
        let code = error.code
        let kind: Kind
        if reply?["writeErrors"]?.arrayValue?.isEmpty == false {
            kind = .write
        } else {
            switch domain {
            case MONGOC_ERROR_SERVER.rawValue:
                kind = code == Self.cursorNotFound ? .cursor : .command
            case MONGOC_ERROR_WRITE_CONCERN.rawValue:
                kind = .writeConcern
            case MONGOC_ERROR_SERVER_SELECTION.rawValue:
                kind = .serverSelection
            case MONGOC_ERROR_STREAM.rawValue:
                kind = .network
            case MONGOC_ERROR_PROTOCOL.rawValue:
                kind = .protocol
            case MONGOC_ERROR_CLIENT.rawValue where code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue,
                 MONGOC_ERROR_SASL.rawValue, MONGOC_ERROR_SCRAM.rawValue:
                kind = .authentication
            case MONGOC_ERROR_BSON.rawValue:
                kind = .bson
            case MONGOC_ERROR_CURSOR.rawValue where code == MONGOC_ERROR_CURSOR_INVALID_CURSOR.rawValue:
                kind = .invalidArgument  // libmongoc: "you passed bad arguments" to a find or aggregate
            case MONGOC_ERROR_CURSOR.rawValue:
                kind = .cursor
            case MONGOC_ERROR_CLIENT.rawValue where code == MONGOC_ERROR_CLIENT_TOO_BIG.rawValue,
                 MONGOC_ERROR_COMMAND.rawValue, MONGOC_ERROR_NAMESPACE.rawValue,
                 MONGOC_ERROR_COLLECTION.rawValue, MONGOC_ERROR_INSERT.rawValue:
                kind = .invalidArgument  // libmongoc refused the request before sending it
            default:
                kind = .client
            }
        }
        self.init(kind: kind, domain: domain, code: code, message: error.messageText, reply: reply)
    }

    static let cursorNotFound: UInt32 = 43
    static let namespaceNotFound: UInt32 = 26

    /// True for the server's NamespaceNotFound (a collection or index that does not exist).
    var isNamespaceNotFound: Bool {
        domain == MONGOC_ERROR_SERVER.rawValue && code == Self.namespaceNotFound
    }
}
