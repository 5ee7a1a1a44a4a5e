import Foundation
import Synchronization

/// Which field a key path leads to. Three kinds of key path reach a schema: a wrapper's storage
/// key path (`_name`, passed by the compiler on every field access), and the key paths users
/// name in queries and partial documents, projected (`\.$name`) or to the property (`\.name`).
/// Each is resolved once (a storage key path by its property's name where it can, else on the
/// class's prototype; a named one on the prototype), and its answer kept in one table read
/// without a lock (``SlotTable``), and by value under `lock` for key paths that are new objects
/// on every access (those of generic classes).
///
/// An answer is a slot (`>= 0`), `-1` (no field: for a storage key path, a wrapper `Mirror` does
/// not list, which reads as the default and keeps no write), or `-2 - slot` for a key path that
/// names a field only as a projection (`\.$name`: as a property, its value is no field's).
/// Storage key paths are private to their class, so users never name one in a query.
extension Schema {
    /// The slot of the field whose wrapper `keyPath` leads to in `instance`. Inlinable: every
    /// field access asks, and the table's probe is a few instructions.
    @inlinable
    func slot(for keyPath: AnyKeyPath, in instance: FieldContainer) -> Int {
        // The table keeps every key path it lists alive, so an address found there is this key
        // path (no other object can have it meanwhile).
        if let table = slotTable.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.answer(for: ObjectIdentifier(keyPath)) }) {
            return known
        }
        return resolveSlot(for: keyPath, in: instance)
    }

    /// ``slot(for:in:)`` for a key path the table does not list yet.
    @usableFromInline
    func resolveSlot(for keyPath: AnyKeyPath, in instance: FieldContainer) -> Int {
        locked {
            if let known = slotsByKeyPath[keyPath] { return known }
            // A wrapper's storage key path leads to one of the class's own fields, unless the
            // class hides them from `Mirror`: then -1, which reads as the default and keeps no write.
            let slot = slotNamed(by: keyPath) ?? markedSlot(keyPath, near: instance)
            if slot < 0 {
                unmatchedWrapperProblem = unmatchedWrapperProblem ?? "\(keyPath) matches no field \(type) declares"
                hasUnmatchedWrapper.store(true, ordering: .releasing)
            }
            record(keyPath, answer: slot)
            return slot
        }
    }

    /// The field a query key path such as `\Person.$age` names, or nil: a `KeyPath<Model,
    /// Field<V>>` can also lead through another property (`\Person.address.$city`), which names
    /// no field of `Model`.
    func field(forProjected keyPath: AnyKeyPath) -> FieldInfo? {
        slot(forProjected: keyPath).map { fields[$0] }
    }

    /// The slot of the field a key path names, either form: `\Person.$age` or `\Person.age`;
    /// nil when it names no field.
    func slot(forProjected keyPath: AnyKeyPath) -> Int? {
        let answer = self.answer(forNamed: keyPath)
        return answer >= 0 ? answer : answer <= -2 ? -2 - answer : nil
    }

    /// The slot of the field a property key path such as `\Person.age` reads, or nil when the
    /// key path reads no field, or several (a computed property of several, `id`). Lock-free
    /// for a key path seen before: partial documents read every field through this.
    func slot(forProperty keyPath: AnyKeyPath) -> Int? {
        let answer = self.answer(forNamed: keyPath)
        return answer >= 0 ? answer : nil
    }

    /// The answer for a key path a user named, traced the first time by reading it on the
    /// prototype: the fields it read are the ones it names.
    private func answer(forNamed keyPath: AnyKeyPath) -> Int {
        if let table = slotTable.load(ordering: .acquiring),
           let known = table._withUnsafeGuaranteedRef({ $0.answer(for: ObjectIdentifier(keyPath)) }) {
            return known
        }
        return locked {
            if let known = slotsByKeyPath[keyPath] { return known }
            // Under `lock`, so the recorded reads are this key path's alone.
            let prototype = prototypeInstance()
            let trace = ReadTrace.record(on: prototype, of: self) { _ = prototype[keyPath: keyPath] }
            let answer: Int
            let valueType = Swift.type(of: keyPath).valueType
            if valueType is any AnyField.Type || valueType is any ReferenceHandleProtocol.Type {
                // `\.$name` (a field or a reference handle) is traced by the projected subscript,
                // and must be one of this class's own wrappers: `\.address.$city` is projected on
                // another instance and names no field here.
                let slot = trace.projectedSlots.count == 1 ? trace.projectedSlots[0] : -1
                answer = slot >= 0 ? -2 - slot : -1
            } else {
                // Exactly one field read: the key path is that field. A computed property
                // reading several fields, or none, is not a field.
                let traced = Set(trace.slots)
                answer = traced.count == 1 ? max(traced.first ?? -1, -1) : -1
            }
            record(keyPath, answer: answer)
            return answer
        }
    }

    /// Records `answer` for `keyPath`, by value and in a newly published table. Call under `lock`.
    private func record(_ keyPath: AnyKeyPath, answer: Int) {
        slotsByKeyPath[keyPath] = answer
        let previous = publishedSlotTables.last
        var entries = previous?.entries ?? [:]
        entries[ObjectIdentifier(keyPath)] = (keyPath, answer)
        let table = SlotTable(entries)
        publishedSlotTables.append(table)
        slotTable.store(Unmanaged.passUnretained(table), ordering: .releasing)
        previous?.dropEntries()
    }

    /// The slot of the storage key path `\Person._name`, found by the wrapper's name: the key
    /// path's description names the property, and exactly one declared wrapper must have that
    /// name. No instance is read or made. Nil when the description names none (then
    /// ``markedSlot(_:near:)`` decides), or several (two levels of a class hierarchy may each
    /// declare a private wrapper of one name).
    private func slotNamed(by keyPath: AnyKeyPath) -> Int? {
        let description = keyPath.debugDescription
        guard description.hasPrefix("\\"), let dot = description.lastIndex(of: ".") else { return nil }
        let label = description[description.index(after: dot)...]
        guard label.hasPrefix("_") else { return nil }
        let matching = fields.indices.filter { fields[$0].name == label.dropFirst() }
        return matching.count == 1 ? matching[0] : nil
    }

    /// The slot of a storage key path found by marking its wrapper on the prototype (see
    /// ``slotMatching(_:in:)``); -1 when it leads to none of the wrappers `Mirror` lists. Call
    /// under `lock`.
    private func markedSlot(_ keyPath: AnyKeyPath, near instance: FieldContainer) -> Int {
        let target = markableInstance(near: instance)
        // Making the prototype ran its init(), which may have read this very field.
        if let known = slotsByKeyPath[keyPath] { return known }
        return slotMatching(keyPath, in: target) ?? -1
    }

    /// The prototype, made on first use. Call under `lock`.
    private func prototypeInstance() -> FieldContainer {
        if let prototype { return prototype }
        let made = Self.makePrototype(of: type)
        prototype = prototype ?? made
        return prototype ?? made
    }

    /// The instance a storage key path may be marked on: one nobody else can see. That is the
    /// prototype, or, when the prototype's own `init()` reads a field (re-entering here while it
    /// is being made), `instance`, which is that prototype. Call under `lock`.
    private func markableInstance(near instance: FieldContainer) -> FieldContainer {
        if prototype == nil && Self.isMakingPrototype(of: type) { return instance }
        return prototypeInstance()
    }

    /// Makes the prototype of `type`: the one time Tendril runs the class's `init()` itself.
    static func makePrototype(of type: FieldContainer.Type) -> FieldContainer {
        let dictionary = Thread.current.threadDictionary
        let key = prototypeKey(type)
        let outer = dictionary[key]
        dictionary[key] = true
        defer { dictionary[key] = outer }
        return type.init()
    }

    /// Whether this thread is inside the `init()` of `type`'s prototype.
    private static func isMakingPrototype(of type: FieldContainer.Type) -> Bool {
        Thread.current.threadDictionary[prototypeKey(type)] != nil
    }

    private static func prototypeKey(_ type: FieldContainer.Type) -> String {
        "tendril.makingPrototype.\(UInt(bitPattern: ObjectIdentifier(type).hashValue))"
    }

    /// Finds which of `instance`'s fields the wrapper `keyPath` leads to: writes a marked copy of
    /// the wrapper through the key path, looks for the mark among the instance's wrappers (as
    /// `Mirror` lists them), then writes the original back. Only for an instance no other thread
    /// can reach (see ``markableInstance(near:)``).
    private func slotMatching(_ keyPath: AnyKeyPath, in instance: FieldContainer) -> Int? {
        guard let wrapper = instance[keyPath: keyPath] as? any AnyField else { return nil }
        return wrapper.whileMarked(through: keyPath, in: instance) { mark in
            Self.fieldChildren(of: instance).firstIndex { $0.field.identity === mark }
        } ?? nil
    }
}
