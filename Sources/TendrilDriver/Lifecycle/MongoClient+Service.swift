import Foundation
public import ServiceLifecycle

/// A ``MongoClient`` runs in a `ServiceGroup` beside the server that uses it, and shuts down
/// gracefully after it.
///
/// ```swift
/// let client = try MongoClient(uri, backgroundLogger: logger, tracing: .enabled())
/// let group = ServiceGroup(configuration: .init(
///     services: [.init(service: client), .init(service: server)],
///     gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
/// List the client before the services that use it: a group shuts services down in reverse
/// order, so the server stops taking requests before the client stops serving them.
extension MongoClient: Service {
    /// Runs until the group's graceful shutdown (or the task's cancellation), then calls
    /// ``shutdown(gracePeriod:)`` with ``shutdownGracePeriod``.
    /// - Throws: nothing of its own; it returns once the client is shut down.
    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch is CancellationError {
            // Cancelled rather than asked to shut down gracefully: shut down all the same.
        }
        await shutdown()
    }

    /// Stops the client: new operations throw ``MongoError`` `.clientShutDown` at once;
    /// operations in flight may finish for up to `gracePeriod`; then every cursor still open is
    /// closed (one `killCursors` each, for cursors the server still holds), and the connection
    /// pool with its connections once every connection is back.
    ///
    /// ```swift
    /// await client.shutdown(gracePeriod: .seconds(5))
    /// try await people.findOne()    // throws MongoError, kind .clientShutDown
    /// ```
    /// Calling it again does nothing more. A cursor closed here reads as exhausted.
    /// > Note: An operation still running after `gracePeriod` is not interrupted (libmongoc's
    /// timeouts bound it); the pool is then freed when the client is, not here.
    public func shutdown(gracePeriod: Duration? = nil) async {
        guard pool.gate.close() else { return }
        let period = gracePeriod ?? shutdownGracePeriod
        let (seconds, attoseconds) = period.components
        let deadline = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
        let pool = pool
        let logger = backgroundLogger
        // Waiting and killCursors block: off the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            BlockingExecutor.shared.execute {
                if !pool.gate.waitForOperations(until: deadline) {
                    logger.debug("shutdown: operations still in flight after the grace period")
                }
                let cursors = pool.gate.openCursors
                for cursor in cursors { cursor.close() }
                logger.debug("shutdown: closed the open cursors", metadata: ["cursors": "\(cursors.count)"])
                if pool.gate.waitForConnections(until: deadline), pool.destroyIfIdle() {
                    logger.debug("shutdown: connection pool closed")
                }
                continuation.resume()
            }
        }
    }

    /// True once ``shutdown(gracePeriod:)`` began: new operations are refused.
    public var isShutDown: Bool { pool.gate.isClosed }
}
