import TendrilDriver

extension FieldContainer {
    /// The fields as JSON members by property name, in declaration order; a field a projection
    /// did not load is left out (never encoded as its default).
    final func jsonMembers() -> [(key: String, value: JSONValue)] {
        let schema = self.schema
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(schema.fields.count)
        for (slot, field) in schema.fields.enumerated() {
            let unloaded = readFields { ($0.loadedSlots.map { !$0[slot] } ?? false) && $0.current[slot] == nil }
            if unloaded { continue }
            members.append((key: field.name, value: FieldJSON.json(currentValue(slot, schema: schema), as: field.valueType)))
        }
        return members
    }

    /// Sets every field `json` names (by property name) as a pending change, after checking each
    /// as saving does; all or nothing. Members that name no field are ignored.
    /// - Throws: ``JSONFieldFailure`` naming the JSON path.
    final func assignFields(from json: JSONValue) throws {
        guard case .object(let members) = json else {
            throw JSONFieldFailure(kind: .typeMismatch(expected: "object (\(type(of: self)))", found: json.description), path: "")
        }
        let byName = Dictionary(members, uniquingKeysWith: { first, _ in first })
        let schema = self.schema
        if let problem = schema.declarationProblem { throw JSONFieldFailure(kind: .notAField, path: problem) }
        var changes: [(slot: Int, value: any FieldValue)] = []
        for (slot, field) in schema.fields.enumerated() {
            guard let member = byName[field.name] else {
                if field.isRequired { throw JSONFieldFailure(kind: .missingRequiredField, path: field.name) }
                continue
            }
            let (_, typed) = try FieldJSON.checkedValue(member, field: field, path: field.name)
            changes.append((slot, typed))
        }
        for change in changes { assign(change.value, to: change.slot) }
    }

    /// Writes `value` to `slot` as a setter does (the existential opened, so it is stored as its
    /// own type, which reads cast back to).
    private final func assign<Value: FieldValue>(_ value: Value, to slot: Int) {
        changeFields { $0.write(value, to: slot) }
    }
}
