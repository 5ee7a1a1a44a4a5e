/// How many commands a task may send to the server, counted for the task, its child tasks and
/// the commands Tendril's own threads send on its behalf (cursor batches, reference resolution).
///
/// ```swift
/// // Prove that rendering a page costs at most 20 commands: the 21st throws, unsent.
/// let page = try await QueryBudget.limit(20) { try await renderPage(meetingIDs) }
///
/// // Or measure what a code path sends.
/// let (meetings, commandsSent) = try await QueryBudget.count { try await Meeting.objects.all() }
/// ```
///
/// Every command counts: `find`, `aggregate`, each `getMore` of a cursor (a batch is a round
/// trip, so a budget that ignored batches would hide the cost of iterating a large result),
/// writes, and the `killCursors` sent when a budgeted task closes an unfinished cursor. A command
/// is refused before it is sent, with a ``QueryBudgetExceeded`` naming it; `killCursors` alone is
/// never refused, since refusing it would leave the cursor open on the server.
/// > Note: Budgets nest: a command is refused when any enclosing budget is spent, and counts
/// toward all of them. Child tasks (`async let`, task groups, `Task {}`) inherit the budget,
/// `Task.detached` does not. An operation that libmongoc splits into several commands (an
/// `insertMany` beyond the server's batch limits) is checked once, before its first command,
/// and all its commands count.
public final class QueryBudget: Sendable {
    /// The budget of the running task (or of the task a Tendril thread works for).
    @TaskLocal static var current: QueryBudget?

    /// At most this many commands, or nil to count without a limit.
    private let maximum: Int?
    /// The budget this one was opened in: every command counts toward it too.
    private let enclosing: QueryBudget?
    private let sent = Locked(0)

    private init(maximum: Int?, enclosing: QueryBudget?) {
        self.maximum = maximum
        self.enclosing = enclosing
    }

    /// Runs `body`, refusing every command beyond the first `maximum` that it (and whatever it
    /// starts) would send.
    ///
    /// ```swift
    /// try await QueryBudget.limit(5) {
    ///     for try await meeting in Meeting.objects.prefetch(\.$division) { _ = try await meeting.$division.resolve() }
    /// }
    /// ```
    /// - Throws: ``QueryBudgetExceeded`` when a command would go beyond `maximum` (nothing is
    ///   sent for it), and whatever `body` throws.
    public static func limit<Result>(
        _ maximum: Int, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        let budget = QueryBudget(maximum: Swift.max(maximum, 0), enclosing: current)
        return try await $current.withValue(budget, operation: body, isolation: isolation)
    }

    /// Runs `body` and returns its result with the number of commands it sent (its child tasks
    /// and Tendril's threads working for it included), without limiting them.
    ///
    /// ```swift
    /// let (_, commandsSent) = try await QueryBudget.count { try await meeting.$attendees.resolve() }
    /// ```
    /// - Throws: what `body` throws (a ``QueryBudgetExceeded`` of an enclosing ``limit(_:isolation:_:)`` included).
    public static func count<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async rethrows -> (result: Result, commandsSent: Int) {
        let budget = QueryBudget(maximum: nil, enclosing: current)
        let result = try await $current.withValue(budget, operation: body, isolation: isolation)
        return (result, budget.sent.withLock { $0 })
    }

    /// Takes one command from this budget and every enclosing one, or throws without taking any
    /// when one of them is spent. Locks are taken innermost first, always in that order.
    func reserve(_ command: String, collection: String?) throws {
        try sent.withLock { sent in
            if let maximum, sent >= maximum {
                throw QueryBudgetExceeded(limit: maximum, commandName: command, collectionName: collection)
            }
            try enclosing?.reserve(command, collection: collection)
            sent += 1
        }
    }

    /// Gives back `count` reserved commands that were never sent.
    func release(_ count: Int) {
        sent.withLock { $0 -= count }
        enclosing?.release(count)
    }

    /// Counts a command sent without a reservation (one libmongoc added to a checked operation).
    func recordUnreserved() {
        sent.withLock { $0 += 1 }
        enclosing?.recordUnreserved()
    }
}
