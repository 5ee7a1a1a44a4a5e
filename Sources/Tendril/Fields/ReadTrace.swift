import Foundation
import Synchronization

/// The slots of the fields a prototype read while a key path was traced.
@usableFromInline
final class ReadTrace {
    /// The traces this thread is recording, innermost last: tracing one key path may trace
    /// another (a computed property that builds a query), and other threads trace their own.
    private final class Stack {
        var entries: [(prototype: ObjectIdentifier, trace: ReadTrace)] = []
    }
    private static let threadKey = "tendril.readTraces"

    private static var stack: Stack {
        let dictionary = Thread.current.threadDictionary
        if let stack = dictionary[threadKey] as? Stack { return stack }
        let stack = Stack()
        dictionary[threadKey] = stack
        return stack
    }

    /// The trace this thread records for `instance`, if it is a prototype being traced.
    @usableFromInline
    static func current(for instance: FieldContainer) -> ReadTrace? {
        let identity = ObjectIdentifier(instance)
        return stack.entries.last { $0.prototype == identity }?.trace
    }

    /// Runs `body` (which reads a key path on `prototype`, whose schema is `schema`) and returns
    /// the fields it read.
    static func record(on prototype: FieldContainer, of schema: Schema, _ body: () -> Void) -> ReadTrace {
        let trace = ReadTrace()
        let stack = self.stack
        stack.entries.append((ObjectIdentifier(prototype), trace))
        schema.activeReadTraces.add(1, ordering: .relaxed)
        body()
        schema.activeReadTraces.subtract(1, ordering: .relaxed)
        stack.entries.removeLast()
        return trace
    }

    /// Fields read (`person.name`).
    @usableFromInline var slots: [Int] = []
    /// Fields whose projected value was read (`person.$name`).
    @usableFromInline var projectedSlots: [Int] = []
    init() {}
}
