import Foundation
import Synchronization
import TendrilDriver

/// What Tendril knows of a `Document` or `EmbeddedDocument` class: its fields, in order, with
/// their stored keys. Built once per class from `Mirror` of the first instance that touches a
/// field; instances themselves are never reflected again.
///
/// `@unchecked Sendable`: immutable after creation, except the members `lock` guards and the
/// atomically published tables.
@usableFromInline
final class Schema: @unchecked Sendable {
    let type: FieldContainer.Type
    /// The fields in declaration order (superclass fields first); a field's slot is its index.
    let fields: [FieldInfo]
    /// Each field's stored key, apart from `fields` so lookups copy no `FieldInfo`.
    let keys: [String]
    /// Each field's key length in UTF-8 bytes: what reads need to find a value after its key.
    @usableFromInline let keyLengths: [Int]
    /// Each field's value type, apart from `fields` so the load loop copies no `FieldInfo`.
    let valueTypes: [any FieldValue.Type]
    /// The `.required` fields, by slot.
    let requiredFields: [(Int, FieldInfo)]
    /// The slot of the `.version` field, when the class has one (an `Int`, at most one).
    let versionSlot: Int?
    /// Whether the class declares a reference field: documents of a class without one never
    /// resolve references, so they need no ``PeerGroup``.
    let hasReferenceFields: Bool

    /// The keys and type checks in C's form, for the one-pass load.
    let fieldTable: BSONFieldTable

    /// The first unusable key inside the embedded document classes this class stores, as a
    /// dotted path (`address.bad.key`), or nil. Computed on first use (it needs their schemas)
    /// and cached under `lock`.
    var invalidEmbeddedKey: String? {
        if let cached = locked({ cachedInvalidEmbeddedKey }) { return cached }
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(type)]
        let found = Self.firstInvalidEmbeddedKey(in: self, visited: &visited)
        locked { cachedInvalidEmbeddedKey = .some(found) }
        return found
    }
    private var cachedInvalidEmbeddedKey: String??

    /// Walks the embedded classes once each, so a class that contains itself ends.
    private static func firstInvalidEmbeddedKey(in schema: Schema, visited: inout Set<ObjectIdentifier>) -> String? {
        for field in schema.fields {
            guard let embedded = field.valueType.embeddedDocumentType,
                  visited.insert(ObjectIdentifier(embedded)).inserted else { continue }
            let nested = Schema.of(embedded)
            if let key = nested.invalidKeys.first { return "\(field.key).\(key)" }
            if let key = firstInvalidEmbeddedKey(in: nested, visited: &visited) { return "\(field.key).\(key)" }
        }
        return nil
    }
    /// Field keys that cannot be stored (see ``StoredKeys``), `_id`, or keys used by two fields.
    let invalidKeys: [String]

    /// Why this class cannot be mapped, or nil: Tendril reads field declarations through `Mirror`,
    /// which a class conforming to `CustomReflectable` replaces, and a wrapper then matches no
    /// field. Its documents read defaults and keep no writes; loading, saving and querying throw.
    var declarationProblem: String? {
        if let reflectionProblem { return reflectionProblem }
        if let versionProblem { return versionProblem }
        // Asked on every load: the lock is taken only once a problem was found.
        guard hasUnmatchedWrapper.load(ordering: .acquiring) else { return nil }
        return locked { unmatchedWrapperProblem }
    }
    private let reflectionProblem: String?
    /// Where each slot's wrapper lies in an instance (see Schema+Defaults.swift); nil when the
    /// class's layout could not be matched to its fields.
    let wrapperOffsets: [Int]?
    private let versionProblem: String?
    /// Set (under `lock`, with `hasUnmatchedWrapper`) when a wrapper matches no declared field.
    var unmatchedWrapperProblem: String?
    let hasUnmatchedWrapper = Atomic<Bool>(false)

    // Where key paths lead (see Schema+KeyPaths.swift).
    /// The schema's one lock, guarding every `var` here. Held while the prototype is made, traced
    /// or marked, which runs user code (its `init()`, computed properties) that reads fields and
    /// so re-enters on the same thread: hence recursive.
    let lock = NSRecursiveLock()
    /// Slots by key-path object, read without a lock on every field access (see ``SlotTable``).
    @usableFromInline let slotTable = Atomic<Unmanaged<SlotTable>?>(nil)
    /// How many traces of this class's prototype are being recorded, checked by every field read:
    /// one relaxed load of a schema the read holds already, nearly always zero.
    @usableFromInline let activeReadTraces = Atomic<Int>(0)
    /// Every table published in `slotTable`, kept alive for readers that loaded one without
    /// retaining it (see ``SlotTable`` for why their number is bounded).
    var publishedSlotTables: [SlotTable] = []
    /// The same answers by key-path value: key paths of generic classes are new objects on every
    /// access, so they are found here instead of growing the published table.
    var slotsByKeyPath: [AnyKeyPath: Int] = [:]
    /// The hidden instance key paths are read on: made once per class, never handed out.
    var prototype: FieldContainer?

    init(type: FieldContainer.Type, fields: [FieldInfo], reflectionProblem: String?) {
        self.reflectionProblem = reflectionProblem
        self.type = type
        self.fields = fields
        self.wrapperOffsets = Self.wrapperOffsets(of: type, fields: fields)
        self.keyLengths = fields.map { $0.key.utf8.count }
        self.keys = fields.map(\.key)
        self.valueTypes = fields.map(\.valueType)
        self.requiredFields = fields.enumerated().filter { $0.element.isRequired }.map { ($0.offset, $0.element) }
        self.hasReferenceFields = fields.contains { $0.reference != nil }
        let versionSlots = fields.indices.filter { fields[$0].declaration.isVersion }
        self.versionSlot = versionSlots.first
        self.versionProblem = versionSlots.count > 1 ? "\(type) declares more than one .version field"
            : versionSlots.first.flatMap { fields[$0].valueType == Int.self ? nil : "the .version field \(fields[$0].name) of \(type) must be an Int" }
        let valueTypes = self.valueTypes
        self.fieldTable = BSONFieldTable(
            keys: fields.map(\.key), checksID: type is Document.Type,
            accepts: { slot, type in valueTypes[slot]._acceptsStoredType(type) },
            acceptsElement: { slot in
                (valueTypes[slot] as? any ElementTypedField.Type).map { container in { container.elementValueType._acceptsStoredType($0) } }
            })
        var seen = Set<String>()
        self.invalidKeys = fields.map(\.key).filter { key in
            // Two fields under one key would overwrite each other.
            let duplicate = !seen.insert(key).inserted
            return duplicate || !StoredKeys.isValid(key) || key == "_id"
        }
    }

    /// Every `@Field` of `instance`, walking superclasses first, as (label, field) pairs.
    static func fieldChildren(of instance: FieldContainer) -> [(name: String, field: any AnyField)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: instance)
        while let current = mirror {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        return mirrors.reversed().flatMap { mirror in
            mirror.children.compactMap { child -> (String, any AnyField)? in
                guard let label = child.label, let field = child.value as? any AnyField else { return nil }
                // The compiler names a wrapper's storage `_property`.
                let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                return (name, field)
            }
        }
    }

    static func declaredFields(of instance: FieldContainer) -> [FieldInfo] {
        fieldChildren(of: instance).map { name, field in
            FieldInfo(name: name, key: field.customKey ?? name, isRequired: field.isRequired,
                      valueType: field.valueType, encodedDefault: field.encodedDefault, declaration: field,
                      reference: (field as? any AnyReferenceField)?.referenceInfo)
        }
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
