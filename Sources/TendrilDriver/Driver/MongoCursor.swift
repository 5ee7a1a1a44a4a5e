internal import CTendrilMongoC
import Foundation
import Logging

/// A server-side cursor, streamed batch by batch: only the current batch is held in memory.
///
/// ```swift
/// let cursor = try people.find(["age": ["$gte": 21]], options: FindOptions(batchSize: 500))
/// while let person = try cursor.next() { print(person["name"]?.stringValue ?? "?") }
///
/// for try await person in try await people.find() { ... }   // async, off the cooperative pool
/// ```
/// Each document is copied out of libmongoc's batch before the next is read, so no borrowed
/// `bson_t` outlives `mongoc_cursor_next`. When the cursor is exhausted it frees its server
/// resources at once; when it is dropped (or `close()` is called) before that, libmongoc sends
/// one `killCursors`.
/// > Note: A cursor holds one pooled connection until it is exhausted or closed. It may cross
/// tasks and threads; calls on it are serialised by a lock.
public final class MongoCursor: @unchecked Sendable {
    // Guarded by `lock`; nil once exhausted, failed or closed.
    private let lock = NSLock()
    private var resources: CursorResources?
    /// The command the first read sends (`find`, `aggregate`, `listIndexes`), until it is sent.
    private var unsentOpeningCommand: String?
    /// Documents libmongoc holds from the last batch, not yet read: while there are some, a
    /// read sends nothing; after them, it sends a `getMore` (if the server keeps the cursor).
    private var documentsLeftInBatch = 0
    /// The database and collection, for the ``QueryBudgetExceeded`` of a refused batch and the
    /// operation each batch is to tracing and metrics.
    private let namespace: (database: String, collection: String)
    /// The logger of the task that opened the cursor, which logs its batches' commands.
    private let logger: Logger?

    /// Takes ownership of `resources`; from here on the cursor releases them (so this init
    /// must not throw: deinit would run).
    init(resources: CursorResources, openingCommand: String, namespace: (database: String, collection: String)) {
        self.resources = resources
        self.unsentOpeningCommand = openingCommand
        self.namespace = namespace
        logger = OperationObservation.taskLogger
        resources.pool.gate.register(self)
    }

    /// The next document, or nil when the cursor is exhausted (then always nil).
    /// - Throws: ``MongoError`` when a `getMore` fails (network, CursorNotFound, ...); the
    ///   documents already returned stay valid. ``BSONError`` when the server sent invalid BSON.
    @available(*, noasync, message: "use the async twin: for try await document in cursor")
    public func next() throws -> BSONDocument? {
        lock.lock()
        defer { lock.unlock() }
        return try nextBorrowed().map { try BSONDocument(validatingBorrowed: $0) }
    }

    /// Calls `body` with the bytes of the next document as libmongoc lends them (not validated,
    /// valid only during the call), or returns nil when the cursor is exhausted: for callers that
    /// validate while they read, so a document costs one walk, not a validation then a read.
    /// - Throws: as ``next()``, and what `body` throws.
    @available(*, noasync, message: "use the async iterator's withNext(_:)")
    package func withNext<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result? {
        lock.lock()
        defer { lock.unlock() }
        guard let document = try nextBorrowed() else { return nil }
        guard let data = bson_get_data(document) else { throw BSONError(.malformedBytes, "libmongoc returned no document data") }
        return try body(UnsafeBufferPointer(start: data, count: Int(tendril_bson_length(document))))
    }

    /// The next document as libmongoc lends it (valid until the next call), or nil when the
    /// cursor is exhausted. Requires `lock`.
    private func nextBorrowed() throws -> OpaquePointer? {
        guard let cursor = resources?.cursor else { return nil }
        var document: OpaquePointer?
        if try readsFromBatch(cursor, into: &document), let document {
            return document
        }
        // A second mongoc_cursor_next after `false` would turn a clean end into an error,
        // so the cursor is released right here, clean end or not.
        var error = bson_error_t()
        var replyPointer: OpaquePointer?
        if mongoc_cursor_error_document(cursor, &error, &replyPointer) {
            // The error is thrown either way; an invalid reply only leaves it without its details.
            let reply = replyPointer.flatMap { try? BSONDocument(validatingBorrowed: $0) }
            release()
            throw MongoError(error, reply: reply)
        }
        release()
        return nil
    }

    /// `mongoc_cursor_next`, through the task's ``QueryBudget`` when it sends a command: the
    /// opening command on the first read, a `getMore` once the batch is used up (a batch is a
    /// round trip, so it counts). A refused command throws before libmongoc is called, and the
    /// cursor stays where it was. Requires `lock`.
    private func readsFromBatch(_ cursor: OpaquePointer, into document: inout OpaquePointer?) throws -> Bool {
        if documentsLeftInBatch > 0 {
            documentsLeftInBatch -= 1
            return mongoc_cursor_next(cursor, &document)
        }
        // A server cursor id of 0 after the first batch: libmongoc ends without a round trip.
        guard let command = unsentOpeningCommand ?? (mongoc_cursor_get_id(cursor) != 0 ? "getMore" : nil) else {
            return mongoc_cursor_next(cursor, &document)
        }
        let cursorID = unsentOpeningCommand == nil ? mongoc_cursor_get_id(cursor) : nil
        let telemetry = resources?.pool.telemetry ?? Telemetry()
        let (found, batchLength) = try OperationObservation.run(
            command, database: namespace.database, collection: namespace.collection, telemetry: telemetry, cursorID: cursorID,
            logger: logger
        ) {
            try CommandSending.sendingCursorCommand(command, to: namespace.collection) { mongoc_cursor_next(cursor, &document) }
        }
        unsentOpeningCommand = nil
        documentsLeftInBatch = found ? Swift.max((batchLength ?? 0) - 1, 0) : 0
        return found
    }

    /// How many documents the async iterator takes per hop: the batch size the cursor was
    /// opened with (at most 1,000), or 101, the server's default first batch.
    var documentsPerHop: Int {
        lock.lock()
        defer { lock.unlock() }
        let batchSize = resources.map { Int(mongoc_cursor_get_batch_size($0.cursor)) } ?? 0
        return batchSize > 0 ? Swift.min(batchSize, 1000) : 101
    }

    /// True once the cursor is exhausted, failed or closed.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return resources == nil
    }

    /// Reads every remaining document into an array.
    /// > Note: Holds the whole result in memory; prefer ``next()`` or `for try await` for large results.
    /// - Throws: as ``next()``.
    @available(*, noasync, message: "use the async twin: try await cursor.toArray()")
    public func toArray() throws -> [BSONDocument] {
        var documents: [BSONDocument] = []
        while let document = try next() { documents.append(document) }
        return documents
    }

    /// Calls `body` with each remaining document, streaming.
    /// - Throws: what `body` or ``next()`` throws.
    @available(*, noasync, message: "use the async twin: for try await document in cursor")
    public func forEach(_ body: (BSONDocument) throws -> Void) throws {
        while let document = try next() { try body(document) }
    }

    /// Closes the cursor early; libmongoc sends `killCursors` if the server still holds it.
    @available(*, noasync, message: "use the async twin: await cursor.close()")
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        release()
    }

    /// Closes the cursor early from async code: the `killCursors` round trip runs on
    /// Tendril's threads, not on the cooperative pool.
    public func close() async {
        let cursor = self
        await withCheckedContinuation { continuation in
            BlockingExecutor.shared.execute {
                cursor.close()
                continuation.resume()
            }
        }
    }

    /// Requires `lock` (or exclusive access).
    private func release() {
        resources?.pool.gate.unregister(self)
        resources?.release()
        resources = nil
    }

    deinit {
        guard let resources else { return }
        resources.pool.gate.unregister(self)
        // Dropping an unfinished cursor sends killCursors, a network round trip: inside a task
        // that would block a cooperative thread, so the executor does it instead.
        if withUnsafeCurrentTask(body: { $0 != nil }) {
            BlockingExecutor.shared.execute { resources.release() }
        } else {
            resources.release()
        }
    }
}

/// The libmongoc handles behind a cursor: the cursor, the collection it was created from
/// (libmongoc requires the cursor to be destroyed first) and the pooled client both run on.
///
/// `@unchecked Sendable`: it is touched only under its ``MongoCursor``'s lock, or, once the
/// cursor is gone, by the single job that releases it.
final class CursorResources: @unchecked Sendable {
    let cursor: OpaquePointer
    private let collection: OpaquePointer
    private let client: OpaquePointer
    let pool: ConnectionPool
    private var released = false

    init(cursor: OpaquePointer, collection: OpaquePointer, client: OpaquePointer, pool: ConnectionPool) {
        self.cursor = cursor
        self.collection = collection
        self.client = client
        self.pool = pool
    }

    /// Destroys the cursor (sending killCursors if the server still holds it) and the
    /// collection, then returns the client to the pool. Only the first call does anything.
    func release() {
        guard !released else { return }
        released = true
        mongoc_cursor_destroy(cursor)
        mongoc_collection_destroy(collection)
        pool.push(client)
    }
}

extension MongoCursor: AsyncSequence {
    /// Each element is one document of the result.
    public typealias Element = BSONDocument

    /// Fetches documents on Tendril's blocking threads, never on the cooperative pool, up to a
    /// batch per hop (the cursor's batch size, 101 by default, at most 1,000), so the thread
    /// hand-off is not paid per document and no more than about a batch is held.
    ///
    /// The blocking thread only copies the batch's bytes out of libmongoc, back to back in one
    /// buffer; each document is validated and copied into its own storage on the iterating
    /// task's thread as it is reached. So a document is allocated, read and freed on one thread
    /// (no allocator locks or cache lines handed between cores per document), and a document
    /// the iteration never reaches costs nothing more.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let cursor: MongoCursor
        private var batch = Batch()
        private var position = 0
        private var pendingError: (any Error)?

        init(cursor: MongoCursor) {
            self.cursor = cursor
        }

        /// Calls `body` with the bytes of the next document of the batch already fetched, as the
        /// server sent them, or returns nil when a fetch (or the end, or an error) comes next.
        /// The bytes are not validated (`body` must validate them before keeping anything) and
        /// are valid only during the call. For callers that validate while they read, in one walk.
        package mutating func withNextBufferedBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
            guard position < batch.count else { return nil }
            defer { position += 1 }
            return try batch.withBytes(at: position, body)
        }

        /// The next document, or nil at the end; throws what ``MongoCursor/next()`` throws,
        /// after delivering the documents that came before the failure.
        /// Runs on the caller's executor (only fetching a batch moves to Tendril's threads), so a
        /// document fetched already is handed over without an executor hop.
        public nonisolated(nonsending) mutating func next() async throws -> BSONDocument? {
            try await withNext { try BSONDocument(bytes: $0) }
        }

        /// Calls `body` with the bytes of the next document, fetching a batch first when none is
        /// left, or returns nil at the end: ``withNextBufferedBytes(_:)`` for every document, the
        /// first of a batch included. `body` runs on the caller's executor.
        /// - Throws: as ``next()``, and what `body` throws (the iteration then goes on with the
        ///   next document).
        package nonisolated(nonsending) mutating func withNext<Result>(
            _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
        ) async throws -> Result? {
            guard try await fetchBatchIfNeeded() else { return nil }
            return try withNextBufferedBytes(body)
        }

        /// How many documents of the batch already fetched are left to read.
        package var bufferedCount: Int { batch.count - position }

        /// Fetches the next batch when none is left to read, so that ``bufferedCount`` tells how
        /// many documents arrived together before any is read; false at the end.
        /// - Throws: as ``next()``.
        package nonisolated(nonsending) mutating func fetchBatchIfNeeded() async throws -> Bool {
            guard position == batch.count else { return true }
            try throwPendingError()
            let cursor = self.cursor
            // The cursor is only touched on Tendril's threads, its batch size included.
            batch = try await BlockingExecutor.shared.run { cursor.nextBatch(upTo: cursor.documentsPerHop) }
            position = 0
            pendingError = batch.error
            if batch.count == 0 {
                try throwPendingError()
                return false
            }
            return true
        }

        /// Throws the error that ended the last batch, once, after its documents were read.
        private mutating func throwPendingError() throws {
            guard let pendingError else { return }
            self.pendingError = nil
            throw pendingError
        }
    }

    /// An iterator for `for try await`; iterate one cursor from one task at a time.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(cursor: self)
    }

    /// Reads every remaining document into an array, from async code: the async twin of the
    /// blocking ``toArray()``, reading batches on Tendril's threads.
    /// > Note: Holds the whole result in memory; prefer `for try await` for large results.
    /// - Throws: as ``next()``.
    public func toArray() async throws -> [BSONDocument] {
        var documents: [BSONDocument] = []
        for try await document in self { documents.append(document) }
        return documents
    }

    /// Up to `limit` documents as the server sent them, not yet validated, packed back to back;
    /// an error ends the batch and is reported after the documents before it.
    struct Batch: Sendable {
        /// The documents' bytes, one after another.
        private(set) var bytes: [UInt8] = []
        /// Where each document starts in `bytes`; it ends where the next one starts.
        private(set) var starts: [Int] = []
        var error: (any Error)?

        var count: Int { starts.count }

        mutating func append(_ data: UnsafePointer<UInt8>, length: Int) {
            starts.append(bytes.count)
            bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }

        /// Calls `body` with the bytes of document `index`, not validated.
        func withBytes<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
            let start = starts[index]
            let end = index + 1 < starts.count ? starts[index + 1] : bytes.count
            return try bytes.withUnsafeBufferPointer { buffer in
                try body(UnsafeBufferPointer(rebasing: buffer[start..<end]))
            }
        }
    }

    func nextBatch(upTo limit: Int) -> Batch {
        lock.lock()
        defer { lock.unlock() }
        var batch = Batch()
        do {
            while batch.count < limit, let document = try nextBorrowed() {
                guard let data = bson_get_data(document) else {
                    throw BSONError(.malformedBytes, "libmongoc returned no document data")
                }
                batch.append(data, length: Int(tendril_bson_length(document)))
            }
        } catch {
            batch.error = error
        }
        return batch
    }
}
