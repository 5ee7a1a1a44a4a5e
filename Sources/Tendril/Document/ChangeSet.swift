import TendrilDriver

/// What a save must send: `$set` and `$unset` of what differs from the stored document.
struct ChangeSet {
    var sets = BSONDocument()
    var unsets = BSONDocument()
    /// The stored document as it will be once the update is applied.
    var updatedStored: BSONDocument

    var isEmpty: Bool { sets.isEmpty && unsets.isEmpty }

    /// `{"$set": ..., "$unset": ...}`, leaving out an empty part.
    func updateDocument() throws -> BSONDocument {
        var update = BSONDocument()
        if !sets.isEmpty { try update.appendOperator("$set", .document(sets)) }
        if !unsets.isEmpty { try update.appendOperator("$unset", .document(unsets)) }
        return update
    }

    /// Compares every field read or written since the load with its stored value. Untouched
    /// fields, and stored fields the class does not declare, are left alone.
    /// `defaults` gives a slot's declared default as the document's initialiser made it.
    init(stored: BSONDocument, schema: Schema, storage: FieldStorage, defaults: (Int) -> BSONValue) throws {
        updatedStored = stored
        for slot in storage.current.keys.sorted() {
            let field = schema.fields[slot]
            let new = storage.currentValue(slot, schema: schema) ?? defaults(slot)
            let old = stored[field.key]
            if new.isNull {  // nil optionals are unset, never stored as null
                // A field a projection left out may be stored even though `stored` lacks it.
                if old != nil || storage.loadedSlots?[slot] == false {
                    try unsets.append(field.key, "")
                    updatedStored.removeValue(forKey: field.key)
                }
            } else if old != new {
                // First: building the stored document as it will be checks that the new value
                // encodes within MongoDB's limits (the diff below reads only its elements).
                try updatedStored.setValue(new, forKey: field.key)
                try Self.diff(old: old, new: new, path: field.key, sets: &sets, unsets: &unsets)
            }
        }
    }

    /// Embedded documents are compared key by key, so a change deep inside one sets just that
    /// path (`address.city`); anything else (arrays included) is set whole.
    private static func diff(old: BSONValue?, new: BSONValue, path: String,
                             sets: inout BSONDocument, unsets: inout BSONDocument) throws {
        guard old != new else { return }
        if case .document(let oldDocument)? = old, case .document(let newDocument) = new,
           !newDocument.isEmpty, pathSafe(oldDocument), pathSafe(newDocument) {
            for (key, value) in newDocument {
                try diff(old: oldDocument[key], new: value, path: path + "." + key, sets: &sets, unsets: &unsets)
            }
            for key in oldDocument.keys where newDocument[key] == nil {
                try unsets.append(path + "." + key, "")
            }
        } else {
            try sets.append(path, new)
        }
    }

    /// Keys that can be addressed by a dotted path (no dots, no leading `$`, no duplicates).
    private static func pathSafe(_ document: BSONDocument) -> Bool {
        let keys = document.keys
        return Set(keys).count == keys.count && keys.allSatisfy { !$0.isEmpty && !$0.contains(".") && !$0.hasPrefix("$") }
    }
}
