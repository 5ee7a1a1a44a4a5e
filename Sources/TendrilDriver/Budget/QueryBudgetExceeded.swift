/// A command refused by a ``QueryBudget`` because the budget was spent: it was not sent.
///
/// ```swift
/// do {
///     try await QueryBudget.limit(1) { try await Meeting.objects.all() }
/// } catch let error as QueryBudgetExceeded {
///     print(error)   // query budget of 1 command exceeded: getMore on meetings was not sent
/// }
/// ```
public struct QueryBudgetExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    /// The budget's limit, reached before this command.
    public let limit: Int
    /// The command that was refused: `find`, `getMore`, `insert`, `update`, ...
    public let commandName: String
    /// The collection it was for, or nil for a command on a database (`ping`, `dropDatabase`).
    public let collectionName: String?

    public var description: String {
        let target = collectionName.map { " on \($0)" } ?? ""
        return "query budget of \(limit) command\(limit == 1 ? "" : "s") exceeded: \(commandName)\(target) was not sent"
    }
}
