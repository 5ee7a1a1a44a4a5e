import Foundation
import Synchronization
import TendrilDriver

/// What Tendril knows of a `Document` or `EmbeddedDocument` class: its fields, in order, with
/// their stored keys. Built once per class from `Mirror` of the first instance that touches a
/// field; instances themselves are never reflected again.
///
/// `@unchecked Sendable`: immutable after creation, except the key-path caches behind locks.
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
    private let versionProblem: String?
    private var unmatchedWrapperProblem: String?
    private let hasUnmatchedWrapper = Atomic<Bool>(false)
    // Guarded by `lock`.
    private let lock = NSLock()
    private let prototypeReadLock = NSLock()
    /// Slots by storage key path, read on every field access without a lock: an immutable
    /// table published atomically, replaced (under `lock`) when a key path is added. Keyed by
    /// the key path object, which the runtime instantiates once per property (a miss only costs
    /// a recomputation). Replaced tables are kept, so a reader never sees one freed.
    private let slotTable = Atomic<Unmanaged<SlotTable>?>(nil)
    /// The same for property key paths (`\Person.name`), which partial documents read through.
    private let propertySlotTable = Atomic<Unmanaged<SlotTable>?>(nil)
    private var retiredSlotTables: [SlotTable] = []

    final class SlotTable {
        /// Each entry keeps its key path alive, so no other key path can reuse its address
        /// while the entry exists; a hit is still confirmed by identity.
        let slots: [ObjectIdentifier: (keyPath: AnyKeyPath, slot: Int)]
        /// The same slots by key-path address, read on every field access.
        private let byAddress: AddressTable

        init(_ slots: [ObjectIdentifier: (keyPath: AnyKeyPath, slot: Int)]) {
            self.slots = slots
            self.byAddress = AddressTable(slots.map { ($0.key, $0.value.slot) })
        }

        /// The slot recorded for the key path object at `identity`, or nil.
        func slot(for identity: ObjectIdentifier) -> Int? { byAddress.value(for: identity) }
    }
    /// Every storage key path seen, by value: key paths of generic classes are new objects on
    /// each access, so they are found here (under `lock`) instead of growing the table.
    private var slotByStorageKeyPath: [AnyKeyPath: Int] = [:]
    private var slotByProjectedKeyPath: [AnyKeyPath: Int] = [:]
    private var slotByPropertyKeyPath: [AnyKeyPath: Int] = [:]
    /// An instance used only to read field declarations through key paths, made on demand.
    private var prototype: FieldContainer?

    private static let registry = Locked<[ObjectIdentifier: Schema]>([:])
    /// The registry as an immutable table, read without a lock by every new document (it asks
    /// for its schema once); republished, under the registry's lock, when a class is added.
    private static let published = Atomic<Unmanaged<SchemaTable>?>(nil)
    private static let retiredTables = Locked<[SchemaTable]>([])

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

    /// The schema of `instance`'s class, built from it the first time.
    static func of(_ instance: FieldContainer) -> Schema {
        let type = Swift.type(of: instance)
        let identifier = ObjectIdentifier(type)
        // Class metadata is never freed, so an address found in the table is this class.
        if let table = published.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.schema(for: identifier) }) {
            return known
        }
        if let known = registry.withLock({ $0[identifier] }) { return known }
        // Built outside the lock: an init() that touches a field re-enters here.
        let built = Schema(type: type, fields: declaredFields(of: instance),
                           reflectionProblem: instance is CustomReflectable
                               ? "\(type) conforms to CustomReflectable, which hides its fields from Tendril" : nil)
        let schema = registry.withLock { registry in
            if let raced = registry[identifier] { return raced }
            registry[identifier] = built
            let table = SchemaTable(registry)
            retiredTables.withLock { $0.append(table) }   // keeps every published table alive
            published.store(Unmanaged.passUnretained(table), ordering: .releasing)
            return built
        }
        DeleteRules.record(schema)
        return schema
    }

    /// The schema of `type`, creating a prototype instance if no instance exists yet.
    static func of(_ type: FieldContainer.Type) -> Schema {
        if let known = registry.withLock({ $0[ObjectIdentifier(type)] }) { return known }
        return type.init().schema
    }

    private init(type: FieldContainer.Type, fields: [FieldInfo], reflectionProblem: String?) {
        self.reflectionProblem = reflectionProblem
        self.type = type
        self.fields = fields
        self.keyLengths = fields.map { $0.key.utf8.count }
        self.keys = fields.map(\.key)
        self.valueTypes = fields.map(\.valueType)
        self.requiredFields = fields.enumerated().filter { $0.element.isRequired }.map { ($0.offset, $0.element) }
        let versionSlots = fields.indices.filter { fields[$0].declaration.isVersion }
        self.versionSlot = versionSlots.first
        self.versionProblem = versionSlots.count > 1 ? "\(type) declares more than one .version field"
            : versionSlots.first.flatMap { fields[$0].valueType == Int.self ? nil : "the .version field \(fields[$0].name) of \(type) must be an Int" }
        let valueTypes = self.valueTypes
        self.fieldTable = BSONFieldTable(
            keys: fields.map(\.key), checksID: type is Document.Type,
            accepts: { slot, type in valueTypes[slot].acceptsStoredType(type) },
            acceptsElement: { slot in
                (valueTypes[slot] as? any ElementTypedField.Type).map { container in { container.elementValueType.acceptsStoredType($0) } }
            })
        var seen = Set<String>()
        self.invalidKeys = fields.map(\.key).filter { key in
            // Two fields under one key would overwrite each other.
            let duplicate = !seen.insert(key).inserted
            return duplicate || !StoredKeys.isValid(key) || key == "_id"
        }
    }

    /// Every `@Field` of `instance`, walking superclasses first, as (label, field) pairs.
    private static func fieldChildren(of instance: FieldContainer) -> [(name: String, field: any AnyField)] {
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

    private static func declaredFields(of instance: FieldContainer) -> [FieldInfo] {
        fieldChildren(of: instance).map { name, field in
            FieldInfo(name: name, key: field.customKey ?? name, isRequired: field.isRequired,
                      valueType: field.valueType, encodedDefault: field.encodedDefault, declaration: field,
                      reference: (field as? any AnyReferenceField)?.referenceInfo)
        }
    }

    /// The slot of the field whose wrapper `keyPath` leads to in `instance`.
    @usableFromInline
    func slot(for keyPath: AnyKeyPath, in instance: FieldContainer) -> Int {
        let identity = ObjectIdentifier(keyPath)
        // The table keeps every key path it lists alive, so an address found there is this key
        // path (no other object can have it meanwhile).
        if let table = slotTable.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.slot(for: identity) }) {
            return known
        }
        if let known = locked({ slotByStorageKeyPath[keyPath] }) { return known }
        // A wrapper's storage key path leads to one of the class's own fields, unless the class
        // hides them from `Mirror`: then -1, which reads as the default and keeps no write.
        let slot = matchedSlot(keyPath, near: instance) ?? -1
        if slot < 0 {
            locked { unmatchedWrapperProblem = unmatchedWrapperProblem ?? "\(keyPath) matches no field \(type) declares" }
            hasUnmatchedWrapper.store(true, ordering: .releasing)
        }
        locked {
            slotByStorageKeyPath[keyPath] = slot
            publish(keyPath, slot: slot, in: slotTable)
        }
        return slot
    }

    /// Publishes a copy of `table` that also lists `keyPath`. Call under `lock`.
    private func publish(_ keyPath: AnyKeyPath, slot: Int, in table: borrowing Atomic<Unmanaged<SlotTable>?>) {
        var slots = table.load(ordering: .acquiring)?.takeUnretainedValue().slots ?? [:]
        slots[ObjectIdentifier(keyPath)] = (keyPath, slot)
        let published = SlotTable(slots)
        retiredSlotTables.append(published)   // keeps every published table alive
        table.store(Unmanaged.passUnretained(published), ordering: .releasing)
    }

    private func locked<R>(_ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The field a query key path such as `\Person.$age` names.
    /// The field a key path names, or nil: a `KeyPath<Model, Field<V>>` can also lead through
    /// another property (`\Person.address.$city`), which names no field of `Model`.
    func field(forProjected keyPath: AnyKeyPath) -> FieldInfo? {
        slot(forProjected: keyPath).map { fields[$0] }
    }

    /// The slot of the field a key path names, either form: `\Person.$age` or `\Person.age`;
    /// nil when it names no field.
    func slot(forProjected keyPath: AnyKeyPath) -> Int? {
        if let slot = locked({ slotByProjectedKeyPath[keyPath] }) { return slot }
        let instance = prototypeInstance()
        // Every use of the shared prototype holds this lock (slot(forProperty:) takes it itself).
        let slot: Int?
        let valueType = Swift.type(of: keyPath).valueType
        if valueType is any AnyField.Type || valueType is any ReferenceHandleProtocol.Type {
            // `\.$name` (a field or a reference handle) is traced by the projected subscript, and
            // must be one of this class's own wrappers: `\.address.$city` is projected on another
            // instance and names no field here.
            prototypeReadLock.lock()
            let trace = ReadTrace.record(on: instance) { _ = instance[keyPath: keyPath] }
            slot = trace.projectedSlots.count == 1 ? trace.projectedSlots.first.flatMap { $0 >= 0 ? $0 : nil } : nil
            prototypeReadLock.unlock()
        } else {
            slot = self.slot(forProperty: keyPath)
        }
        guard let slot else { return nil }
        locked { slotByProjectedKeyPath[keyPath] = slot }
        return slot
    }

    /// The slot of the field a property key path such as `\Person.age` reads, or nil when the
    /// key path reads no field, or several (a computed property of several, `id`).
    func slot(forProperty keyPath: AnyKeyPath) -> Int? {
        // Lock-free for a key path seen before, as for storage key paths (partial documents
        // read every field through this).
        if let table = propertySlotTable.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.slot(for: ObjectIdentifier(keyPath)) }) {
            return known
        }
        if let slot = locked({ slotByPropertyKeyPath[keyPath] }) { return slot }
        let instance = prototypeInstance()
        // Only this function reads the prototype, under its own lock (not `lock`: the field
        // getter takes that one), so the recorded slot is this read's.
        prototypeReadLock.lock()
        let trace = ReadTrace.record(on: instance) { _ = instance[keyPath: keyPath] }
        // Exactly one field read: the key path is that field. A computed property reading
        // several fields, or none, is not a field.
        let traced = Set(trace.slots)
        let slot = traced.count == 1 ? traced.first.flatMap { $0 >= 0 ? $0 : nil } : nil
        prototypeReadLock.unlock()
        if let slot {
            locked {
                slotByPropertyKeyPath[keyPath] = slot
                publish(keyPath, slot: slot, in: propertySlotTable)
            }
        }
        return slot
    }

    private func prototypeInstance() -> FieldContainer {
        if let existing = locked({ prototype }) { return existing }
        let made = type.init()
        return locked {
            prototype = prototype ?? made
            return prototype ?? made
        }
    }

    /// Finds which field the wrapper `keyPath` leads to, on an instance nobody else can see: a
    /// probe made for the purpose (marking writes to it), or, when the probe's own `init()` reads
    /// a field (re-entering here), `instance`, which is that probe being initialised.
    private func matchedSlot(_ keyPath: AnyKeyPath, near instance: FieldContainer) -> Int? {
        let matching = Thread.current.threadDictionary
        let key = "tendril.matching.\(ObjectIdentifier(self).hashValue)"
        if matching[key] != nil { return slotMatching(keyPath, in: instance) }
        matching[key] = true
        defer { matching[key] = nil }
        return slotMatching(keyPath, in: type.init())
    }

    /// Finds which of `instance`'s fields the wrapper `keyPath` leads to: writes a marked copy of
    /// the wrapper through the key path, looks for the mark among the instance's wrappers (as
    /// `Mirror` lists them), then writes the original back. Only for instances no other thread
    /// can reach (see ``matchedSlot(_:near:)``).
    private func slotMatching(_ keyPath: AnyKeyPath, in instance: FieldContainer) -> Int? {
        guard let wrapper = instance[keyPath: keyPath] as? any AnyField else { return nil }
        return wrapper.whileMarked(through: keyPath, in: instance) { mark in
            Self.fieldChildren(of: instance).firstIndex { $0.field.identity === mark }
        } ?? nil
    }
}
