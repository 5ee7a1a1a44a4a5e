import TendrilDriver

/// The common base of ``Document`` and ``EmbeddedDocument``: a class whose `@Field`s live in
/// Tendril-managed storage (the fetched BSON plus the values read or written since).
///
/// Subclass ``Document`` or ``EmbeddedDocument``, not this class.
open class FieldContainer {
    /// The class's schema, looked up once per instance.
    final lazy var schema: Schema = Schema.of(self)
    final var fieldStorage = FieldStorage()
    /// Set on a schema's prototype only: the slot of the field read last, which is how a key
    /// path to a property (`\Person.name`) is traced to its field.
    final var recordsReads = false
    final var lastReadSlot: Int?

    /// Creates an instance with every field at its declared default.
    /// > Note: Set initial values in the field declarations; an `init()` override must call
    /// `super.init()` first.
    public required init() {}

    /// The fields as BSON, in declaration order (defaults for fields never set).
    func encodedFields() -> BSONDocument {
        var document = BSONDocument()
        for (slot, field) in schema.fields.enumerated() {
            let value = fieldStorage.currentValue(slot, field: field)
            if !(value.isNull && field.omitsNull) {
                // Keys were validated when the schema was built; values are plain BSON.
                try? document.append(field.key, value)
            }
        }
        return document
    }
}

/// One field of a class, as discovered from its declaration.
struct FieldInfo: @unchecked Sendable {
    /// The Swift property name.
    let name: String
    /// The stored key.
    let key: String
    let isRequired: Bool
    let valueType: any FieldValue.Type
    let encodedDefault: BSONValue
    /// The wrapper as declared, for its validation rules.
    let declaration: any AnyField

    /// Optional fields that are nil are left out of inserted documents rather than stored as null.
    var omitsNull: Bool { true }
}

/// The per-instance storage behind the `@Field`s.
struct FieldStorage {
    /// The document as last loaded from or saved to the server; nil for a new instance.
    var stored: BSONDocument?
    /// Typed values read or written since, by slot. Reads are cached so that an embedded
    /// document read twice is the same object, and changes made inside it are saved.
    var current: [Int: Any] = [:]
    /// For a partially loaded document, which slots were loaded; nil when all were.
    var loadedSlots: [Bool]?

    mutating func read<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: Value) -> Value {
        // Unwrap the entry before casting: `nil as? Value` succeeds (as nil) when Value is optional.
        if let entry = current[slot], let cached = entry as? Value { return cached }
        // A field a projection left out reads as its default but is not cached, so it is never
        // mistaken for a change and saved over the stored value (`Partial` throws instead).
        if let loadedSlots, !loadedSlots[slot] { return defaultValue }
        var value = defaultValue
        // Stored values were type-checked when the document was loaded, so decoding succeeds;
        // an absent field (a new instance, or a document from before the field existed)
        // reads as the declared default.
        if let stored, let storedValue = stored[schema.fields[slot].key], let decoded = Value.decode(storedValue) {
            value = decoded
        }
        current[slot] = value
        return value
    }

    mutating func write<Value: FieldValue>(_ value: Value, to slot: Int) {
        current[slot] = value
    }

    /// The field's current value as BSON: written or read value, else stored, else default.
    func currentValue(_ slot: Int, field: FieldInfo) -> BSONValue {
        if let entry = current[slot], let value = entry as? any FieldValue { return value.bsonValue }
        if let stored, let value = stored[field.key] { return value }
        return field.encodedDefault
    }
}
