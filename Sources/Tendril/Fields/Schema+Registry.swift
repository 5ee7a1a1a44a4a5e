import Foundation
import Synchronization
import TendrilDriver

/// The schemas of every class in use, one per class, created on first use and kept for the life
/// of the process (documents refer to theirs unretained).
extension Schema {
    private static let registry = Locked<[ObjectIdentifier: Schema]>([:])
    /// The registry as an immutable table, read without a lock by every new document (it asks
    /// for its schema once); republished, under the registry's lock, when a class is added.
    private static let published = Atomic<Unmanaged<SchemaTable>?>(nil)
    /// Every table published, kept for readers that loaded one without retaining it: one per
    /// class the program uses, so their number is bounded by the program's classes.
    private static let publishedTables = Locked<[SchemaTable]>([])

    /// Schemas by class: an address table to an index into `schemas`.
    final class SchemaTable: @unchecked Sendable {
        private let indices: AddressTable
        private let schemas: [Schema]

        init(_ registry: [ObjectIdentifier: Schema]) {
            let entries = Array(registry)
            self.schemas = entries.map(\.value)
            self.indices = AddressTable(entries.enumerated().map { ($0.element.key, $0.offset) })
        }

        func schema(for identity: ObjectIdentifier) -> Schema? {
            indices.value(for: identity).map { schemas[$0] }
        }
    }

    /// The schema of `type` if one was built.
    private static func known(_ identifier: ObjectIdentifier) -> Schema? {
        // Class metadata is never freed, so an address found in the table is this class.
        if let table = published.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.schema(for: identifier) }) {
            return known
        }
        return registry.withLock { $0[identifier] }
    }

    /// The schema of `instance`'s class, built from it the first time.
    static func of(_ instance: FieldContainer) -> Schema {
        let type = Swift.type(of: instance)
        let identifier = ObjectIdentifier(type)
        if let known = known(identifier) { return known }
        // Built outside the lock: an init() that touches a field re-enters here.
        let built = Schema(type: type, fields: declaredFields(of: instance),
                           reflectionProblem: instance is CustomReflectable
                               ? "\(type) conforms to CustomReflectable, which hides its fields from Tendril" : nil)
        let schema = registry.withLock { registry in
            if let raced = registry[identifier] { return raced }
            registry[identifier] = built
            let table = SchemaTable(registry)
            publishedTables.withLock { $0.append(table) }
            published.store(Unmanaged.passUnretained(table), ordering: .releasing)
            return built
        }
        DeleteRules.record(schema)
        return schema
    }

    /// The schema of `type`. Without an instance of it yet, its prototype is made first (the
    /// one time Tendril runs the class's `init()` itself) and the schema is built from that.
    static func of(_ type: FieldContainer.Type) -> Schema {
        if let known = known(ObjectIdentifier(type)) { return known }
        let prototype = makePrototype(of: type)
        let schema = prototype.schema
        // Two threads meeting the class at once may both get here; the schema keeps one.
        schema.locked { schema.prototype = schema.prototype ?? prototype }
        return schema
    }
}
