import TendrilDriver

/// The per-instance storage behind the `@Field`s.
@usableFromInline
struct FieldStorage {
    /// The document as last loaded from or saved to the server; nil for a new instance.
    /// Replace it only through ``replaceStored(_:)``: `locations` point into these bytes.
    @usableFromInline private(set) var stored: BSONDocument?
    /// Typed values read or written since, by slot. Reads are cached so that an embedded
    /// document read twice is the same object, and changes made inside it are saved.
    @usableFromInline var current: [Int: Any] = [:]
    /// For a partially loaded document, which slots were loaded; nil when all were.
    @usableFromInline var loadedSlots: [Bool]?
    /// Where each slot's element starts in `stored` (-1 when absent), found when loading, so a
    /// read decodes one value without walking the document.
    @usableFromInline var locations: ElementLocations = .unknown
    /// The address of `stored`'s bytes while `locations` point into them (set and dropped with
    /// them): reads go through it instead of copying `stored`, which would retain its storage.
    @usableFromInline var storedBytes: UnsafeRawPointer?

    /// The field's value; values that keep their identity (embedded documents) are cached in
    /// `current`, so they are read with ``read(_:schema:default:)``.
    @usableFromInline
    mutating func read<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        let value = peek(slot, schema: schema, default: defaultValue())
        // Plain values need no cache: decoding again is cheap and changes go through the setter.
        if Value._keepsIdentity && slot >= 0 && current[slot] == nil && (loadedSlots?[slot] ?? true) { current[slot] = value }
        return value
    }

    /// The field's value without caching anything: a pure read, so documents shared by a
    /// reference cache can have their plain fields read from several threads.
    // Inlinable, so reads are specialised in the declaring module: an unspecialised generic
    // read looked type metadata up at run time on every call.
    @inlinable
    func peek<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        guard slot >= 0 else { return defaultValue() }   // a wrapper that matched no field
        // Unwrap the entry before casting: `nil as? Value` succeeds (as nil) when Value is optional.
        if !current.isEmpty, let entry = current[slot], let cached = entry as? Value { return cached }
        // A field a projection left out reads as its default but is not cached, so it is never
        // mistaken for a change and saved over the stored value (`Partial` throws instead).
        if let loadedSlots, !loadedSlots[slot] { return defaultValue() }
        // Stored values were type-checked when the document was loaded, so decoding succeeds;
        // an absent field (a new instance, or a document from before the field existed)
        // reads as the declared default.
        let value: Value
        if let storedBytes, let offset = locations.offset(of: slot) {
            // The fast path: decode the one element in place.
            value = offset < 0 ? defaultValue()
                : Value._decodeStored(_StoredElement(document: storedBytes, offset: offset, keyLength: schema.keyLengths[slot])) ?? defaultValue()
        } else if let storedValue = storedValue(slot, schema: schema), let decoded = Value.decode(storedValue) {
            value = decoded   // after a save: the bytes were replaced, so look the key up
        } else {
            value = defaultValue()
        }
        return value
    }

    /// The stored value of `slot`, found through its recorded location when there is one.
    @usableFromInline
    func storedValue(_ slot: Int, schema: Schema) -> BSONValue? {
        guard let stored else { return nil }
        if let offset = locations.offset(of: slot) {
            return offset < 0 ? nil : stored.value(atElementOffset: offset, keyLength: schema.keyLengths[slot])
        }
        return stored[schema.keys[slot]]
    }

    @usableFromInline
    mutating func write<Value: FieldValue>(_ value: Value, to slot: Int) {
        guard slot >= 0 else { return }   // a wrapper that matched no field (see Schema.declarationProblem)
        current[slot] = value
    }

    @usableFromInline
    init() {}

    /// Replaces the stored bytes after a save, insert or delete. The element offsets found at
    /// load time point into the old bytes, so they are replaced by `locations`, found in the new
    /// ones (`.unknown`: reads then look keys up).
    mutating func replaceStored(_ document: BSONDocument?, locations: ElementLocations = .unknown) {
        stored = document
        self.locations = locations
        // Kept only with known locations: the fast read path takes both or neither.
        if case .unknown = locations {
            storedBytes = nil
        } else {
            storedBytes = document?.unretainedBytes.data
        }
    }

    /// Makes `stored` the loaded state, forgetting values read or written before.
    mutating func load(_ stored: BSONDocument, loadedSlots: [Bool]?, locations: ElementLocations, keeping changes: [Int: Any]? = nil) {
        self.stored = stored
        if let changes { current = changes } else if !current.isEmpty { current = [:] }
        self.loadedSlots = loadedSlots
        self.locations = locations
        // `stored` is kept unchanged until replaced (with `storedBytes`), so its bytes stay put.
        self.storedBytes = stored.unretainedBytes.data
    }


    /// The field's current value as BSON: written or read value, else stored; nil when it has
    /// neither (its instance's default applies: ``FieldContainer/currentValue(_:schema:)``).
    func currentValue(_ slot: Int, schema: Schema) -> BSONValue? {
        if let entry = current[slot], let value = entry as? any FieldValue { return value.bsonValue }
        return storedValue(slot, schema: schema)
    }

}
