import Foundation
import Synchronization
import TendrilDriver

/// The common base of ``Document`` and ``EmbeddedDocument``: a class whose `@Field`s live in
/// Tendril-managed storage (the fetched BSON plus the values read or written since).
///
/// Subclass ``Document`` or ``EmbeddedDocument``, not this class.
open class FieldContainer {
    /// The class's schema, looked up once per instance (a hand-written lazy property: `lazy`
    /// cannot opt out of the run-time exclusivity checks, which cost every read).
    /// The first read records it; loading does, so a document a query or a reference cache hands
    /// out has it set before any other thread can see the document.
    @inlinable
    final var schema: Schema {
        let word = fieldsWord.load(ordering: .acquiring)
        if let schema = FieldsWord.schema(in: word) { return schema.takeUnretainedValue() }
        return lookUpSchema()
    }

    /// Calls `body` with the class's schema without retaining it: what every field read does.
    @inlinable
    final func withSchema<Result>(_ body: (Schema) throws -> Result) rethrows -> Result {
        let word = fieldsWord.load(ordering: .acquiring)
        if let schema = FieldsWord.schema(in: word) { return try schema._withUnsafeGuaranteedRef(body) }
        return try body(lookUpSchema())
    }

    /// The schema from the registry, recorded in ``fieldsWord`` when nothing is yet (a shared
    /// instance whose word holds its published fields asks the registry on every access).
    @usableFromInline
    final func lookUpSchema() -> Schema {
        let schema = Schema.of(self)
        if fieldsWord.load(ordering: .relaxed) == 0 { adoptSchema(schema) }
        return schema
    }

    /// Records `schema` as this instance's, unless one is recorded already.
    final func adoptSchema(_ schema: Schema) {
        _ = fieldsWord.compareExchange(expected: 0, desired: FieldsWord.word(for: schema), ordering: .releasing)
    }

    /// The class's schema and how this instance keeps its fields, in one word, so that a document
    /// costs no more for being shareable (see ``FieldsWord``). Schemas live as long as the
    /// process (the registry keeps each one), so the word holds its schema unretained, and reads
    /// through it retain nothing.
    @usableFromInline final let fieldsWord = Atomic<UInt>(0)
    // The document's own state is touched only from within Tendril, never across a suspension
    // or through overlapping accesses, so the dynamic exclusivity checks (a thread-local
    // lookup on every read and write) are turned off for it.
    /// The fields, while this instance is not shared; frozen once it is (see ``FieldsWord``).
    @exclusivity(unchecked) @usableFromInline final var inlineFields = FieldStorage()

    /// The fields' storage: changed in place while this instance is not shared; once a reference
    /// cache shares it, read from the state published last and changed by publishing a new one
    /// (see ``FieldsWord``), so that readers on other tasks never see a change half made.
    // A getter, not a `_read` coroutine: a coroutine's frame holding a storage copy was allocated
    // on the heap on every access; the optimiser reads just the members used from the inline copy.
    @usableFromInline
    final var fieldStorage: FieldStorage {
        get { readFields { $0 } }
        _modify {
            if FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) {
                // Changed through a box, so the coroutine's frame stays small enough not to be allocated.
                let change = SharedFieldsChange(of: self)
                defer { change.finish() }
                yield &change.storage
                change.publish()
            } else {
                yield &inlineFields
            }
        }
    }

    /// Calls `body` with the fields, without copying them: in place while this instance is not
    /// shared, else as published last, in a counted read (`body` must not write a shared document).
    @inlinable @inline(__always)
    final func readFields<Result>(_ body: (FieldStorage) -> Result) -> Result {
        if FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) { return withPublishedFields(body) }
        return body(inlineFields)
    }

    /// Calls `body` to change the fields: in place while this instance is not shared, else on a
    /// copy that is then published. What hot paths (loading, setters) use: `fieldStorage`'s
    /// `_modify` coroutine allocates its frame on every access.
    @inlinable @inline(__always)
    final func changeFields<Result>(_ body: (inout FieldStorage) throws -> Result) rethrows -> Result {
        if FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) { return try changeSharedFields(body) }
        return try body(&inlineFields)
    }

    deinit { releasePublishedFields() }

    /// The trace of the fields read, while this instance is the schema prototype being traced
    /// (how a key path to a property, `\Person.name`, is traced to its field); nil otherwise.
    /// Kept outside the instance: every document would otherwise carry the slot.
    @inlinable
    final var readTrace: ReadTrace? { withSchema { readTrace(schema: $0) } }

    /// ``readTrace`` with the schema lent by the caller: what every field read checks.
    @inlinable
    final func readTrace(schema: Schema) -> ReadTrace? {
        guard schema.activeReadTraces.load(ordering: .relaxed) > 0 else { return nil }
        return ReadTrace.current(for: self)
    }

    /// Creates an instance with every field at its declared default.
    /// > Note: Set initial values in the field declarations; an `init()` override must call
    /// `super.init()` first.
    public required init() {}

    /// Field `slot`'s value, read without writing anything. A method of the class, not a call
    /// on `fieldStorage` from the field's inlined getter: that would copy the storage struct
    /// (four retains and releases) on every read.
    // Always inlined into the field's getter: as a call, the default's autoclosure context (the
    // instance and the key path) was retained and released twice per read.
    @inlinable @inline(__always)
    final func peekField<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        // A shared instance is read from the state published last, counted (see FieldsWord).
        guard !FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) else {
            return peekSharedField(slot, schema: schema, default: defaultValue())
        }
        // The common case (loaded whole, unchanged) reads the storage's members one by one:
        // calling a method on `inlineFields` made the compiler copy the whole struct (four
        // retains and releases) to keep it stable during the call. The stored bytes are read
        // through their address, which retains nothing (the storage keeps them alive).
        guard inlineFields.current.isEmpty, inlineFields.loadedSlots == nil,
              let offset = inlineFields.locations.offset(of: slot), let bytes = inlineFields.storedBytes else {
            return inlineFields.peek(slot, schema: schema, default: defaultValue())
        }
        guard offset >= 0 else { return defaultValue() }
        return Value._decodeStored(_StoredElement(document: bytes, offset: offset, keyLength: schema.keyLengths[slot])) ?? defaultValue()
    }

    /// Field `slot`'s value for a field whose values keep their identity (embedded documents):
    /// the first read caches the value, so later reads return the same object.
    @inlinable
    final func readField<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        guard !FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) else {
            return readSharedField(slot, schema: schema, default: defaultValue())
        }
        return inlineFields.read(slot, schema: schema, default: defaultValue())
    }

    /// Makes a stored document this instance's stored state after checking it in one C walk
    /// that matches keys and checks type bytes, decoding nothing (received bytes are validated in
    /// the same walk, then copied); only values whose type byte cannot tell (enums, ranges,
    /// embedded documents) are decoded to check them. `loadedSlots` marks the fields a
    /// projection fetched (nil: all of them). `schema` is lent by the caller (loading is a hot
    /// path: every schema access would otherwise retain and release it). On a problem, nothing
    /// changes.
    /// - Returns: the outcome, and on a failure the document the walk read, for the error (nil
    ///   when received bytes are invalid). On success the document is `fieldStorage.stored`:
    ///   not handing it back spares the hot path a retain and a release.
    final func loadFields(_ source: LoadSource, loadedSlots: [Bool]?, schema: Schema,
                          keeping changes: [Int: Any]? = nil) -> (refused: BSONDocument?, outcome: LoadOutcome) {
        var locations = ElementLocations.unknown
        var needsCheck: [Int] = []
        let (walked, outcome) = Self.walk(source, table: schema.fieldTable, locations: &locations, needsCheck: &needsCheck)
        guard case .loaded(let idOffset) = outcome, let stored = walked else { return (walked, outcome) }
        for slot in needsCheck {
            let offset = locations.offset(of: slot) ?? -1
            if schema.valueTypes[slot].decode(stored.value(atElementOffset: offset, keyLength: schema.keyLengths[slot])) == nil {
                return (stored, .wrongType(slot: slot, offset: offset))
            }
        }
        for (slot, _) in schema.requiredFields where loadedSlots?[slot] ?? true {
            let offset = locations.offset(of: slot) ?? -1
            if offset < 0 || stored.type(atElementOffset: offset) == .null {
                return (stored, .missingRequired(slot: slot))
            }
        }
        changeFields { $0.load(stored, loadedSlots: loadedSlots, locations: locations, keeping: changes) }
        return (nil, .loaded(idOffset: idOffset))
    }

    /// Where `schema`'s fields start in `stored`, a document this instance just wrote (a save's
    /// new bytes), found by the same walk as loading, so reads stay one decode without a key
    /// lookup; `.unknown` if the walk objects (reads then look keys up).
    final func locations(in stored: BSONDocument, schema: Schema) -> ElementLocations {
        var locations = ElementLocations.unknown
        var needsCheck: [Int] = []
        guard case .loaded = Self.walk(.document(stored), table: schema.fieldTable, locations: &locations, needsCheck: &needsCheck).outcome else {
            return .unknown
        }
        return locations
    }

    /// Walks `source` once, matching it to `table`'s fields: the one walk every load takes (and
    /// a values query, with a table of the fields it reads). Fills where each field's element
    /// starts and the slots whose values must be decoded to be checked (results written into
    /// the caller's variables: returned in a struct, they were copied and destroyed on every
    /// load). Up to 12 fields, the C walk writes the offsets straight into the packed form the
    /// storage keeps.
    /// - Returns: the document (nil when received bytes are invalid) and the outcome.
    @inline(__always)
    static func walk(_ source: LoadSource, table: BSONFieldTable, locations: inout ElementLocations,
                     needsCheck: inout [Int]) -> (document: BSONDocument?, outcome: LoadOutcome) {
        if table.count <= PackedFieldOffsets.capacity {
            var packed = PackedFieldOffsets()
            if let matched = table.match(source, packed: &packed) {
                if packed.needsCheck != 0 {
                    needsCheck = (0..<table.count).filter { packed.needsCheck & (1 << UInt64($0)) != 0 }
                }
                locations = .packed(packed.lanes.0, packed.lanes.1, packed.lanes.2)
                return matched
            }
        }
        return withMatchScratch(count: table.count) { offsets, flags in
            let matched = table.match(source, offsets: offsets, needsCheck: flags)
            locations = ElementLocations(offsets)
            needsCheck = flags.indices.filter { flags[$0] != 0 }
            return matched
        }
    }

    /// Calls `body` with room for `count` fields' element offsets (all -1) and needs-check flags
    /// (all 0), which the C walk fills. A constant capacity is allocated on the stack without
    /// asking the runtime whether it fits. Always inlined: as a call, the closure's captures
    /// were retained and released one by one on every load.
    @inline(__always)
    private static func withMatchScratch<Result>(
        count: Int, _ body: (UnsafeMutableBufferPointer<Int32>, UnsafeMutableBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        if count <= stackFieldCapacity {
            return try withUnsafeTemporaryAllocation(of: Int32.self, capacity: stackFieldCapacity) { offsetSpace in
                try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackFieldCapacity) { needsCheckSpace in
                    let offsets = UnsafeMutableBufferPointer(rebasing: offsetSpace[0..<count])
                    let needsCheck = UnsafeMutableBufferPointer(rebasing: needsCheckSpace[0..<count])
                    offsets.initialize(repeating: -1)
                    needsCheck.initialize(repeating: 0)
                    return try body(offsets, needsCheck)
                }
            }
        }
        return try withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { offsets in
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { needsCheck in
                offsets.initialize(repeating: -1)
                needsCheck.initialize(repeating: 0)
                return try body(offsets, needsCheck)
            }
        }
    }

    private static let stackFieldCapacity = 32

    /// The fields as BSON. A new instance encodes every field in declaration order (defaults for
    /// those never set). A loaded one starts from its stored bytes and replaces only the fields
    /// read or written since, so keys the class does not declare, and the exact stored
    /// encoding of untouched values (an int32 in an `Int` field, say), survive.
    /// - Throws: `BSONError` when a value cannot be encoded, `.nestingTooDeep` naming the
    ///   field's path: a field is never left out of what is stored.
    func encodedFields() throws -> BSONDocument {
        if let stored = fieldStorage.stored {
            var document = stored
            document.removeValue(forKey: "_id")   // a Document's id is written separately
            for slot in fieldStorage.current.keys.sorted() {
                let field = schema.fields[slot]
                let value = currentValue(slot, schema: schema)
                if value.isNull {  // nil is absent, never a stored null
                    document.removeValue(forKey: field.key)
                } else if stored[field.key] != value {
                    try document.setValue(value, forKey: field.key)
                }
            }
            return document
        }
        var document = BSONDocument()
        for (slot, field) in schema.fields.enumerated() {
            let value = currentValue(slot, schema: schema)
            if !value.isNull {
                try document.append(field.key, value)
            }
        }
        return document
    }
}
