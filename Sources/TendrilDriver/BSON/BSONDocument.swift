internal import CTendrilMongoC
internal import CTendrilBSON

/// An ordered BSON document: immutable bytes owned by libbson, shared and copied on write.
///
/// Every `BSONDocument` holds valid BSON: bytes from outside are validated on the way in
/// (``init(bytes:)``), and documents built in Swift are valid by construction.
/// ```swift
/// var person: BSONDocument = ["name": "Ada", "born": 1815]
/// try person.append("languages", ["en", "fr"])
/// print(person["name"]?.stringValue ?? "")        // "Ada"
/// for (key, value) in person { print(key, value) }
/// ```
/// > Note: A dictionary literal cannot throw. If a literal's key holds a NUL byte (which BSON
/// cannot encode), that element is left out and the document records the error: sending it
/// through the driver throws it (``encodingError``), so nothing is silently stored.
// `@unchecked`: its storage is a `ManagedBuffer` subclass, which the standard library marks
// non-`Sendable`; shared storage is immutable (see ``BSONStorage``).
public struct BSONDocument: @unchecked Sendable {
    /// The most nested levels of documents and arrays accepted from outside, as in MongoDB.
    public static let maximumNestingDepth = 100

    var storage: BSONStorage

    /// The first element a dictionary literal could not encode, if any.
    public private(set) var encodingError: BSONError? {
        get { encodingErrorBox?.error }
        set { encodingErrorBox = newValue.map(BSONErrorBox.init) }
    }
    // Boxed: inline, the rare error made every document seven words wide (each stored
    // document's fields, and each copy of a document, carried 48 bytes for it).
    private var encodingErrorBox: BSONErrorBox?

    /// An empty document.
    public init() {
        storage = BSONStorage.empty()
    }

    init(storage: BSONStorage) {
        self.storage = storage
    }

    /// Validates and copies bytes that come from outside (files, the network, a user).
    ///
    /// Checks every length, terminator and type byte, that every string and key is UTF-8,
    /// and that nesting stays within ``maximumNestingDepth``.
    /// - Throws: ``BSONError`` (`.malformedBytes`, `.invalidUTF8`, `.nestingTooDeep`).
    public init(bytes: some Collection<UInt8>) throws {
        let validated = try bytes.withContiguousStorageIfAvailable { try BSONDocument(bytes: $0) }
            ?? Array(bytes).withUnsafeBufferPointer { try BSONDocument(bytes: $0) }
        self = validated
    }

    /// Validates and copies bytes in memory: ``init(bytes:)`` without an intermediate array.
    init(bytes buffer: UnsafeBufferPointer<UInt8>) throws {
        guard let base = buffer.baseAddress else {
            throw BSONError(.malformedBytes, "empty input is not a BSON document")
        }
        try self.init(validatingCopyOf: base, length: buffer.count)
    }

    /// Copies a `bson_t` that libmongoc lends (a cursor result, a reply), validating it first,
    /// so the borrowed pointer never outlives the call.
    init(validatingBorrowed bson: OpaquePointer) throws {
        let length = Int(tendril_bson_length(bson))
        let data = bson_get_data(bson)
        guard let data else { throw BSONError(.malformedBytes, "libmongoc returned no document data") }
        try self.init(validatingCopyOf: data, length: length)
    }

    /// Validates `length` bytes at `data` and copies them.
    init(validatingCopyOf data: UnsafePointer<UInt8>, length: Int) throws {
        try BSONDocument.validate(data, length: length)
        storage = BSONStorage.copyingValidated(data, length: length)
    }

    /// A document of `elements`, in order: what a dictionary literal builds, from an array.
    ///
    /// Use it for pairs computed at run time (`zip(keys, values)`), or where a literal would need
    /// `as BSONDocument` to get its type: the array's element type is fixed, so each
    /// `.string(...)` or `.int64(...)` is resolved against ``BSONValue`` alone. When the values do
    /// arithmetic on a closure parameter whose type is inferred, the whole array is still one
    /// expression for the compiler, as a literal is: build such documents with
    /// ``init(_:)`` (``BSONDocumentBuilder``), which checks each line on its own.
    /// ```swift
    /// let people = names.map { name in
    ///     BSONDocument(elements: [("name", .string(name)), ("active", .bool(true))])
    /// }
    /// let row = BSONDocument(elements: Array(zip(columns, values)))
    /// ```
    /// > Note: Like a literal, it cannot throw: a key BSON cannot encode (one holding a NUL
    /// byte) is left out and recorded in ``encodingError``, which the driver throws when the
    /// document is sent, so nothing is silently stored. Use ``append(_:_:)`` to get the error at
    /// once. Keys are not deduplicated, as in BSON itself.
    public init(elements: [(String, BSONValue)]) {
        storage = BSONStorage.empty()
        for (key, value) in elements {
            do {
                try append(key, value)
            } catch let error as BSONError {
                encodingError = encodingError ?? error
            } catch {
                encodingError = encodingError ?? BSONError(.invalidKey, "\(error)")
            }
        }
    }

    static func validate(_ data: UnsafePointer<UInt8>, length: Int) throws {
        guard length >= 5, length <= Int(Int32.max) else {
            throw BSONError(.malformedBytes, "a BSON document is 5 to 2^31-1 bytes long, got \(length)")
        }
        var offset: UInt32 = 0
        let validity = tendril_bson_validate(data, UInt32(length), 0, Int32(maximumNestingDepth), &offset)
        let error: BSONError
        switch validity {
        case TENDRIL_BSON_VALID:
            return
        case TENDRIL_BSON_INVALID_UTF8:
            let path = fieldPath(toElementAt: offset, in: data, length: UInt32(length))
            error = BSONError(.invalidUTF8, "invalid UTF-8 in field \"\(path)\" (the element at byte offset \(offset))", key: path)
        case TENDRIL_BSON_TOO_DEEP:
            // The offset is where the document one level too deep starts: name the field holding it.
            error = BSONError.nestingTooDeep(at: fieldPath(toElementAt: offset, in: data, length: UInt32(length)))
        default:
            error = BSONError(.malformedBytes, "corrupt BSON at byte offset \(offset)")
        }
        throw error.identifying(topLevelID(in: data, length: UInt32(length)))
    }

    /// The `_id` of bytes that failed validation, read from the top level when the walk reaches
    /// it intact: an ObjectId, an integer, or a UTF-8 string (what a caller can name a document by).
    static func topLevelID(in data: UnsafePointer<UInt8>, length: UInt32) -> BSONValue? {
        var position: UInt32 = 4
        var element = tendril_bson_element_t()
        while tendril_bson_next_element(data, length, &position, &element) == TENDRIL_STEP_ELEMENT {
            guard element.key_length == 3, let key = element.key, key[0] == 0x5F, key[1] == 0x69, key[2] == 0x64,
                  let value = element.value else { continue }
            let raw = UnsafeRawPointer(value)
            switch BSONType(rawValue: element.type) {
            case .string where element.value_size < 5: return nil
            case .objectID: return .objectID(ObjectID(unsafeBytes: UnsafeRawBufferPointer(start: raw, count: 12), at: 0))
            case .int32: return .int32(Int32(littleEndian: raw.loadUnaligned(as: Int32.self)))
            case .int64: return .int64(Int64(littleEndian: raw.loadUnaligned(as: Int64.self)))
            case .string:
                let text = UnsafeBufferPointer(start: value + 4, count: Int(element.value_size) - 5)
                return String(validating: text, as: UTF8.self).map(BSONValue.string)
            default: return nil
            }
        }
        return nil
    }

    /// The dotted path (`address.city`, `tags.3`) of the element starting at `offset` of a
    /// document whose structure checks out up to there. Keys that are not UTF-8 themselves show
    /// their bytes as `\xFF`; never a replacement character that would hide what was stored.
    static func fieldPath(toElementAt offset: UInt32, in data: UnsafePointer<UInt8>, length: UInt32) -> String {
        var path: [String] = []
        var base = data
        var baseLength = length
        var target = offset
        var position: UInt32 = 4
        var element = tendril_bson_element_t()
        while tendril_bson_next_element(base, baseLength, &position, &element) == TENDRIL_STEP_ELEMENT {
            guard let value = element.value, let key = element.key else { break }
            let valueStart = UInt32(value - base)
            let end = valueStart + element.value_size
            guard element.offset == target || (target > element.offset && target < end) else { continue }
            path.append(describeKey(key, length: Int(element.key_length)))
            let childStart: UInt32
            switch BSONType(rawValue: element.type) {
            case .document, .array: childStart = valueStart
            case .javascriptWithScope:  // code with scope: total length, the code string, then the scope
                childStart = valueStart &+ 8 &+ UInt32(littleEndian: UnsafeRawPointer(value + 4).loadUnaligned(as: UInt32.self))
            default: childStart = .max
            }
            guard element.offset != target, target >= childStart, childStart < end else { break }
            // Descend: the target is an element of this embedded document.
            base += Int(childStart)
            baseLength = end - childStart
            target -= childStart
            position = 4
        }
        return path.joined(separator: ".")
    }

    private static func describeKey(_ key: UnsafePointer<UInt8>, length: Int) -> String {
        let bytes = UnsafeBufferPointer(start: key, count: length)
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return bytes.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "\\x" + ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined()
    }

    /// The encoded bytes.
    public var bytes: [UInt8] { Array(storage.bytes) }

    /// The encoded size in bytes.
    public var byteCount: Int { storage.length }

    /// Calls `body` with the encoded bytes, without copying them.
    public func withUnsafeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(storage.bytes) }
    }

    /// The number of top-level keys.
    /// > Note: Counting walks the document: O(n).
    public var count: Int {
        // The element walk needs no bson_t (so nothing can be refused); stored bytes are valid.
        withExtendedLifetime(storage) { Int(tendril_bson_count_elements(storage.data, UInt32(storage.length))) }
    }

    /// True when the document has no keys.
    public var isEmpty: Bool { storage.length <= 5 }

    /// The top-level keys, in order.
    public var keys: [String] { map(\.key) }

    /// The value for `key`, or nil when the key is absent. Walks the document: O(n).
    public subscript(key: String) -> BSONValue? {
        guard let offset = elementOffset(forKey: key) else { return nil }
        return value(atElementOffset: offset, keyLength: key.utf8.count)
    }

    /// True when `key` is present.
    public func contains(_ key: String) -> Bool {
        self[key] != nil
    }

    /// Appends `key: value` at the end (keys are not deduplicated, as in BSON itself).
    /// - Throws: ``BSONError`` `.invalidKey` when the key holds a NUL byte, or the nested
    ///   value's own ``encodingError``; `.documentTooLarge` past 2 GiB. The document is
    ///   unchanged when it throws.
    public mutating func append(_ key: String, _ value: BSONValue) throws {
        try BSONValue.append(value, forKey: key, to: growableStorage())
    }

    /// The owned `bson_t` to append to, copying shared or inline (read-only) bytes first.
    private mutating func growableStorage() throws -> OpaquePointer {
        if !isKnownUniquelyReferenced(&storage) || storage.growable == nil {
            storage = storage.copy()
        }
        // `copy()` always gives an owned bson_t; the fallback only guards the invariant.
        guard let growable = storage.growable else { throw BSONError(.malformedBytes, "the document cannot be appended to") }
        return growable
    }

    /// Appends an operator (`$set`, `$eq`) whose value holds stored values one level down:
    /// MongoDB's nesting limit applies to the documents stored, not to the operator's level,
    /// so that level is not counted, and a `.nestingTooDeep` path names the stored field
    /// (`address.city`), not the operator.
    /// - Throws: as ``append(_:_:)``.
    package mutating func appendOperator(_ name: String, _ value: BSONValue) throws {
        do {
            try BSONValue.append(value, forKey: name, to: growableStorage(), level: -1)
        } catch let error as BSONError where error.kind == .nestingTooDeep {
            let path = error.key.flatMap { $0.hasPrefix(name + ".") ? String($0.dropFirst(name.count + 1)) : nil }
            throw BSONError.nestingTooDeep(at: path)
        }
    }

    /// Returns a copy with `key: value` appended.
    /// - Throws: as ``append(_:_:)``.
    public func appending(_ key: String, _ value: BSONValue) throws -> BSONDocument {
        var copy = self
        try copy.append(key, value)
        return copy
    }

    /// Replaces the value of `key` in place (keeping its position), or appends it when absent.
    /// - Throws: as ``append(_:_:)``.
    public mutating func setValue(_ value: BSONValue, forKey key: String) throws {
        var rebuilt = BSONDocument()
        var replaced = false
        for (existingKey, existingValue) in self {
            if existingKey == key {
                if !replaced { try rebuilt.append(key, value) }
                replaced = true
            } else {
                try rebuilt.append(existingKey, existingValue)
            }
        }
        if !replaced { try rebuilt.append(key, value) }
        storage = rebuilt.storage
    }

    /// Removes every element named `key`, returning the first value removed.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> BSONValue? {
        var removed: BSONValue?
        let kept = BSONStorage.empty()
        guard let handle = BSONIteratorHandle(storage), let growable = kept.growable else { return nil }
        var copiedAll = true
        withExtendedLifetime(handle) {
            while bson_iter_next(handle.iter) {
                if BSONValue.key(at: handle.iter) == key {
                    removed = removed ?? BSONValue(decodingAt: handle.iter)
                } else {
                    // A byte copy of the element: no re-encoding, so nothing to refuse but size,
                    // and what is kept is smaller than the valid document it comes from.
                    copiedAll = copiedAll && bson_append_iter(growable, nil, 0, handle.iter)
                }
            }
        }
        // Never drop an element that was not asked for: keep the document whole instead.
        guard copiedAll else { return nil }
        if removed != nil { storage = kept }
        return removed
    }

    /// This document marked as failed to encode with `error`: what a non-throwing conversion
    /// (an embedded document's `bsonValue`) returns, so that appending or sending it throws
    /// `error` instead of storing a partial document.
    package func carrying(_ error: BSONError) -> BSONDocument {
        var marked = self
        marked.encodingError = encodingError ?? error
        return marked
    }

    /// Throws the literal-construction error, if any, so invalid documents never reach the server.
    package func checkEncodable() throws {
        if let encodingError { throw encodingError }
    }

    /// MongoDB's limit on a stored document (`maxBsonObjectSize`): 16 MiB.
    public static let maximumStoredSize = 16 * 1024 * 1024

    /// Checks a document about to be stored (inserted, or an update or replacement): it must
    /// encode and fit MongoDB's 16 MiB, so it fails here with a typed error instead of at the
    /// server (or, with a server that does not enforce the limit, being stored).
    package func checkStorable() throws {
        try checkEncodable()
        guard byteCount <= Self.maximumStoredSize else {
            throw BSONError(.documentTooLarge, "a document of \(byteCount) bytes exceeds MongoDB's limit of \(Self.maximumStoredSize) bytes (16 MiB)")
        }
    }

    /// Throws `.nestingTooDeep` when this document, placed `levels` deep in another, would nest
    /// past ``maximumNestingDepth``. Walks at most that many levels.
    func checkNesting(below levels: Int) throws {
        let allowed = Self.maximumNestingDepth - levels
        guard allowed >= 0 else { throw BSONError.nestingTooDeep(at: nil) }
        let depth = withExtendedLifetime(storage) {
            tendril_bson_nesting_depth(storage.data, UInt32(storage.length), Int32(allowed))
        }
        if depth > allowed { throw BSONError.nestingTooDeep(at: nil) }
    }
}

nonisolated(unsafe) let emptyKey: UnsafePointer<CChar> = {
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return UnsafePointer(pointer)
}()

extension BSONDocument: ExpressibleByDictionaryLiteral {
    /// A document of the pairs, in order; see ``encodingError`` for keys BSON cannot encode.
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init(elements: elements)
    }
}

extension BSONDocument: Sequence {
    /// Walks the elements in order, decoding each value as it is reached.
    public struct Iterator: IteratorProtocol {
        let handle: BSONIteratorHandle?

        /// The next element, decoded; nil after the last.
        public mutating func next() -> (key: String, value: BSONValue)? {
            guard let handle, bson_iter_next(handle.iter) else { return nil }
            return (BSONValue.key(at: handle.iter), BSONValue(decodingAt: handle.iter))
        }
    }

    /// Starts a walk over the elements in order.
    public func makeIterator() -> Iterator {
        Iterator(handle: BSONIteratorHandle(storage))
    }

    /// 0: counting the keys would walk the document.
    public var underestimatedCount: Int { 0 }
}

extension BSONDocument: Equatable, Hashable {
    /// Documents are equal when their bytes are (same keys, order, types and values) and
    /// neither or both failed to encode an element of their literal.
    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.encodingError == rhs.encodingError
            && (lhs.storage === rhs.storage || lhs.storage.bytes.elementsEqual(rhs.storage.bytes))
    }

    /// Hashes the bytes.
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension BSONDocument: CustomStringConvertible {
    /// The document in relaxed extended JSON.
    public var description: String { relaxedExtendedJSON }
}
