internal import CTendrilMongoC
import Foundation

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
/// resources at once; when it is dropped (or ``close()`` is called) before that, libmongoc sends
/// one `killCursors`.
/// > Note: A cursor holds one pooled connection until it is exhausted or closed. It may cross
/// tasks and threads; calls on it are serialised by a lock.
public final class MongoCursor: @unchecked Sendable {
    // Guarded by `lock`; nil once exhausted, failed or closed.
    private let lock = NSLock()
    private var resources: CursorResources?

    /// Takes ownership of `resources`; from here on the cursor releases them (so this init
    /// must not throw: deinit would run).
    init(resources: CursorResources) {
        self.resources = resources
    }

    /// The next document, or nil when the cursor is exhausted (then always nil).
    /// - Throws: ``MongoError`` when a `getMore` fails (network, CursorNotFound, ...); the
    ///   documents already returned stay valid. ``BSONError`` when the server sent invalid BSON.
    public func next() throws -> BSONDocument? {
        lock.lock()
        defer { lock.unlock() }
        guard let cursor = resources?.cursor else { return nil }
        var document: OpaquePointer?
        if mongoc_cursor_next(cursor, &document), let document {
            return try BSONDocument(validatingBorrowed: document)
        }
        // A second mongoc_cursor_next after `false` would turn a clean end into an error,
        // so the cursor is released right here, clean end or not.
        var error = bson_error_t()
        var replyPointer: OpaquePointer?
        if mongoc_cursor_error_document(cursor, &error, &replyPointer) {
            let reply = replyPointer.flatMap { try? BSONDocument(validatingBorrowed: $0) }
            release()
            throw MongoError(error, reply: reply)
        }
        release()
        return nil
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
    public func toArray() throws -> [BSONDocument] {
        var documents: [BSONDocument] = []
        while let document = try next() { documents.append(document) }
        return documents
    }

    /// Calls `body` with each remaining document, streaming.
    /// - Throws: what `body` or ``next()`` throws.
    public func forEach(_ body: (BSONDocument) throws -> Void) throws {
        while let document = try next() { try body(document) }
    }

    /// Closes the cursor early; libmongoc sends `killCursors` if the server still holds it.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        release()
    }

    /// Closes the cursor early from async code: the `killCursors` round trip runs on
    /// Tendril's threads, not on the cooperative pool.
    public func close() async {
        let cursor = self
        _ = try? await BlockingExecutor.shared.run { cursor.close() }
    }

    /// Requires `lock` (or exclusive access).
    private func release() {
        resources?.release()
        resources = nil
    }

    deinit {
        guard let resources else { return }
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
    private let pool: ConnectionPool
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
    public struct AsyncIterator: AsyncIteratorProtocol {
        let cursor: MongoCursor
        private var buffered: [BSONDocument] = []
        private var position = 0
        private var pendingError: (any Error)?

        init(cursor: MongoCursor) {
            self.cursor = cursor
        }

        /// The next document of the batch already fetched, or nil when a fetch (or the end, or
        /// an error) comes next: lets callers that stream many documents skip an `async` call
        /// per document.
        package mutating func nextBuffered() -> BSONDocument? {
            guard position < buffered.count else { return nil }
            defer { position += 1 }
            return buffered[position]
        }

        /// The next document, or nil at the end; throws what ``MongoCursor/next()`` throws,
        /// after delivering the documents that came before the failure.
        public mutating func next() async throws -> BSONDocument? {
            if position == buffered.count {
                if let pendingError {
                    self.pendingError = nil
                    throw pendingError
                }
                let cursor = self.cursor
                // The cursor is only touched on Tendril's threads, its batch size included.
                let fetched = try await BlockingExecutor.shared.run { cursor.nextChunk(upTo: cursor.documentsPerHop) }
                buffered = fetched.documents
                position = 0
                pendingError = fetched.error
                if buffered.isEmpty {
                    if let pendingError {
                        self.pendingError = nil
                        throw pendingError
                    }
                    return nil
                }
            }
            defer { position += 1 }
            return buffered[position]
        }
    }

    /// An iterator for `for try await`; iterate one cursor from one task at a time.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(cursor: self)
    }

    /// Up to `limit` documents; an error ends the chunk and is reported after the documents before it.
    struct Chunk: Sendable {
        var documents: [BSONDocument]
        var error: (any Error)?
    }

    func nextChunk(upTo limit: Int) -> Chunk {
        var chunk = Chunk(documents: [])
        do {
            while chunk.documents.count < limit, let document = try next() {
                chunk.documents.append(document)
            }
        } catch {
            chunk.error = error
        }
        return chunk
    }
}
