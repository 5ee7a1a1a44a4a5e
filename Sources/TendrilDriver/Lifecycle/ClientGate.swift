import Foundation

/// Counts what a client has lent out (pooled connections, open cursors) and, once the client
/// shuts down, refuses new connections and lets ``MongoClient/shutdown(gracePeriod:)`` wait for
/// the lent ones to come back.
final class ClientGate: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var isClosing = false
    private var lentConnections = 0
    private var cursors: [ObjectIdentifier: WeakCursor] = [:]

    private struct WeakCursor {
        weak var cursor: MongoCursor?
    }

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Takes a connection out; `pop` runs under the gate's lock only for the check, not the wait.
    /// - Throws: ``MongoError`` `.clientShutDown` once the client is shutting down.
    func lend() throws {
        try locked {
            guard !isClosing else {
                throw MongoError(kind: .clientShutDown, message: "the MongoClient is shutting down: it starts no new operation")
            }
            lentConnections += 1
        }
    }

    /// A connection came back.
    func giveBack() {
        locked {
            lentConnections -= 1
            condition.broadcast()
        }
    }

    func register(_ cursor: MongoCursor) {
        locked { cursors[ObjectIdentifier(cursor)] = WeakCursor(cursor: cursor) }
    }

    func unregister(_ cursor: MongoCursor) {
        locked {
            if cursors.removeValue(forKey: ObjectIdentifier(cursor)) != nil { condition.broadcast() }
        }
    }

    /// Refuses every later ``lend()``; true for the first call only.
    func close() -> Bool {
        locked {
            defer { isClosing = true }
            return !isClosing
        }
    }

    var isClosed: Bool { locked { isClosing } }

    /// Waits until no connection is lent but to open cursors (no operation in flight), or
    /// until `deadline`; true when none is.
    func waitForOperations(until deadline: Date) -> Bool {
        wait(until: deadline) { lentConnections - cursors.count <= 0 }
    }

    /// Waits until every connection is back, or until `deadline`; true when all are.
    func waitForConnections(until deadline: Date) -> Bool {
        wait(until: deadline) { lentConnections == 0 }
    }

    private func wait(until deadline: Date, for done: () -> Bool) -> Bool {
        locked {
            while !done() {
                if !condition.wait(until: deadline) { return done() }
            }
            return true
        }
    }

    /// The cursors still open.
    var openCursors: [MongoCursor] {
        locked { cursors.values.compactMap(\.cursor) }
    }

    /// Runs `body` while no connection can be lent, if none is lent now; true when it ran.
    func whenNoConnectionIsLent(_ body: () -> Void) -> Bool {
        locked {
            guard isClosing, lentConnections == 0 else { return false }
            body()
            return true
        }
    }
}
