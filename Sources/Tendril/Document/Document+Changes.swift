import TendrilDriver

extension Document {
    /// Whether ``save(in:)`` would send anything now: always for a new document (it would be
    /// inserted), else when a field's value differs from its stored one.
    ///
    /// ```swift
    /// let person = try await Person.objects.first()
    /// _ = person?.name            // reading is not a change
    /// person?.hasChanges          // false
    /// person?.age += 1
    /// person?.hasChanges          // true
    /// ```
    /// > Note: Compares each field read or written since loading with its stored value, as a
    /// save does; untouched fields cost nothing.
    public final var hasChanges: Bool {
        isNew || !changedSlots(stoppingAtFirst: true).isEmpty
    }

    /// The stored keys of the fields whose value differs from the stored one (the fields a save
    /// would `$set` or `$unset`), in declaration order; for a new document, the fields whose
    /// value differs from their declared default.
    ///
    /// ```swift
    /// person.age += 1
    /// person.email = nil          // stored as "mail"
    /// person.changedFields        // ["age", "mail"]
    /// try await person.save()
    /// person.changedFields        // []
    /// ```
    /// Reading a field, embedded documents included, is not a change; setting a field back to
    /// its stored value undoes the change.
    public final var changedFields: [String] {
        let schema = self.schema
        return changedSlots(stoppingAtFirst: false).map { schema.keys[$0] }
    }

    /// The slots whose value differs from the stored one (a new document's: its declared
    /// defaults), in declaration order: each slot read or written since loading, checked alone
    /// by the ``ChangeSet`` a save would build, so both always agree.
    private final func changedSlots(stoppingAtFirst: Bool) -> [Int] {
        let schema = self.schema
        let defaults = { (slot: Int) in self.ownEncodedDefault(slot, schema: schema) }
        let stored = fieldStorage.stored ?? BSONDocument(elements: schema.fields.indices.compactMap { slot in
            let value = defaults(slot)
            return value.isNull ? nil : (schema.fields[slot].key, value)
        })
        var changed: [Int] = []
        for slot in fieldStorage.current.keys.sorted() {
            var alone = fieldStorage
            alone.current = fieldStorage.current.filter { $0.key == slot }
            do {
                guard try !ChangeSet(stored: stored, schema: schema, storage: alone, defaults: defaults).isEmpty else { continue }
            } catch {
                // A change set fails only while adding this field's value to what a save would
                // send (a value BSON cannot hold): the field has changed, and save() throws that.
            }
            changed.append(slot)
            if stoppingAtFirst { break }
        }
        return changed
    }
}
