internal import CTendrilMongoC

/// One libmongoc call that sends a command: takes the command from the task's ``QueryBudget``
/// before the call (so a refused command is never sent) and learns from the command observer
/// callbacks, which libmongoc runs on the calling thread, what was actually sent.
///
/// `@unchecked Sendable`: a scope is bound with a task-local for one synchronous call and touched
/// only by that call's thread (the libmongoc call and the callbacks it runs).
final class CommandSending: @unchecked Sendable {
    /// The call running on this thread, if it is one.
    @TaskLocal private static var current: CommandSending?

    /// Reserved from the budget and not yet matched by a sent command; given back at the end.
    private var unusedReservations: Int
    /// Whether the call opens or continues a cursor, whose reply carries a batch to count.
    private let readsBatch: Bool
    /// How many documents the last cursor reply of the call carried.
    private var batchLength: Int?

    private init(unusedReservations: Int, readsBatch: Bool) {
        self.unusedReservations = unusedReservations
        self.readsBatch = readsBatch
    }

    /// Runs `call`, which sends `command` (for `collection`), after taking the command from the
    /// task's budget.
    /// - Throws: ``QueryBudgetExceeded`` without calling `call` when the budget is spent; what
    ///   `call` throws.
    static func sending<Result>(_ command: String, to collection: String?, _ call: () throws -> Result) throws -> Result {
        guard let budget = QueryBudget.current else { return try call() }
        return try run(command, to: collection, budget: budget, readsBatch: false, call).result
    }

    /// ``sending(_:to:_:)`` for a cursor's `find`, `aggregate` or `getMore`: also returns how many
    /// documents the batch it received holds (nil when no reply carried one), so the cursor
    /// knows when its next read sends a `getMore`.
    static func sendingCursorCommand<Result>(
        _ command: String, to collection: String?, _ call: () throws -> Result
    ) throws -> (result: Result, batchLength: Int?) {
        try run(command, to: collection, budget: QueryBudget.current, readsBatch: true, call)
    }

    private static func run<Result>(
        _ command: String, to collection: String?, budget: QueryBudget?, readsBatch: Bool, _ call: () throws -> Result
    ) throws -> (result: Result, batchLength: Int?) {
        try budget?.reserve(command, collection: collection)
        let scope = CommandSending(unusedReservations: budget == nil ? 0 : 1, readsBatch: readsBatch)
        // A call that failed before sending (or a getMore libmongoc found unneeded) costs nothing.
        defer { if scope.unusedReservations > 0 { budget?.release(scope.unusedReservations) } }
        let result = try $current.withValue(scope) { try call() }
        return (result, scope.batchLength)
    }

    /// A command is being sent on this thread: it uses the call's reservation, or, beyond it (a
    /// command libmongoc added, a `killCursors`), counts toward the task's budget unchecked.
    static func commandStarted() {
        if let scope = current, scope.unusedReservations > 0 {
            scope.unusedReservations -= 1
        } else {
            QueryBudget.current?.recordUnreserved()
        }
    }

    /// A command sent on this thread succeeded with `reply`: a cursor call counts its batch.
    static func commandSucceeded(reply: OpaquePointer?) {
        guard let scope = current, scope.readsBatch, let reply else { return }
        scope.batchLength = batchLength(of: reply)
    }

    /// The number of documents in a cursor reply's `cursor.firstBatch` or `cursor.nextBatch`.
    private static func batchLength(of reply: OpaquePointer) -> Int? {
        guard let field = tendril_iter_new(), let elements = tendril_iter_new() else { return nil }
        defer {
            tendril_iter_free(field)
            tendril_iter_free(elements)
        }
        for path in ["cursor.firstBatch", "cursor.nextBatch"] {
            guard bson_iter_init(field, reply), bson_iter_find_descendant(field, path, elements) else { continue }
            guard bson_iter_type(elements) == BSON_TYPE_ARRAY, bson_iter_recurse(elements, field) else { return nil }
            var count = 0
            while bson_iter_next(field) { count += 1 }
            return count
        }
        return nil
    }
}
