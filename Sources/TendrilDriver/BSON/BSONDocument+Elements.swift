internal import CTendrilMongoC
internal import CTendrilBSON

/// The bytes of one valid BSON document, read in place and owned elsewhere: the element readers
/// of the ODM's hot path. A view retains nothing, so reading through it costs no reference
/// counting; it is valid only while its owner (a ``BSONDocument``'s storage) lives and is not
/// replaced. Every read is bounds-checked against the document's own length prefix.
@usableFromInline
package struct BSONBytes {
    @usableFromInline package let data: UnsafeRawPointer

    @inlinable
    package init(_ data: UnsafeRawPointer) {
        self.data = data
    }

    /// The document's length, from its prefix.
    @inlinable
    package var length: Int { Int(UInt32(littleEndian: data.loadUnaligned(as: UInt32.self))) }

    /// Decodes the value of the element whose type byte is at `offset` (an offset from
    /// ``BSONFieldTable/match(_:offsets:needsCheck:)``; `keyLength` when known saves a scan
    /// for the key's end). Common scalars, documents and arrays are read here; the rarer types
    /// through libbson's iterator. An offset that does not fit reads as `.null`, never out of
    /// bounds.
    package func value(atElementOffset offset: Int, keyLength knownKeyLength: Int? = nil) -> BSONValue {
        guard let type = typeByte(atElementOffset: offset), let keyLength = keyLength(at: offset, known: knownKeyLength) else {
            return .null
        }
        switch BSONType(rawValue: type) {
        case .double: return double(atElementOffset: offset, keyLength: keyLength).map(BSONValue.double) ?? .null
        case .string: return string(atElementOffset: offset, keyLength: keyLength).map(BSONValue.string) ?? .null
        case .objectID: return objectID(atElementOffset: offset, keyLength: keyLength).map(BSONValue.objectID) ?? .null
        case .bool: return bool(atElementOffset: offset, keyLength: keyLength).map(BSONValue.bool) ?? .null
        case .datetime: return datetime(atElementOffset: offset, keyLength: keyLength).map(BSONValue.datetime) ?? .null
        case .null: return .null
        case .int32: return integer(atElementOffset: offset, keyLength: keyLength).map { .int32(Int32(truncatingIfNeeded: $0)) } ?? .null
        case .int64: return integer(atElementOffset: offset, keyLength: keyLength).map(BSONValue.int64) ?? .null
        case .document: return container(atElementOffset: offset, keyLength: keyLength, isArray: false) ?? .null
        case .array: return container(atElementOffset: offset, keyLength: keyLength, isArray: true) ?? .null
        default:
            // A heap iterator (bson_iter_t is 128-byte aligned: never on the Swift stack); the
            // value it decodes copies what it needs, so nothing points into these bytes after.
            guard let iter = tendril_iter_new() else { return .null }
            defer { tendril_iter_free(iter) }
            guard bson_iter_init_from_data_at_offset(iter, data.assumingMemoryBound(to: UInt8.self), length, UInt32(offset),
                                                     UInt32(keyLength))
            else { return .null }
            return BSONValue(decodingAt: iter)
        }
    }

    /// The embedded document or array of the element at `offset`: the document's bytes copied
    /// (they were validated with their parent), an array's elements decoded one by one through
    /// these readers. Nil when the bytes do not fit.
    private func container(atElementOffset offset: Int, keyLength: Int, isArray: Bool) -> BSONValue? {
        let valueStart = offset + keyLength + 2
        guard offset >= 4, valueStart + 5 <= length - 1 else { return nil }
        let size = Int(Int32(littleEndian: data.loadUnaligned(fromByteOffset: valueStart, as: Int32.self)))
        guard size >= 5, valueStart + size <= length - 1 else { return nil }
        let bytes = (data + valueStart).assumingMemoryBound(to: UInt8.self)
        guard isArray else { return .document(BSONDocument(storage: BSONStorage.copyingValidated(bytes, length: size))) }
        let array = BSONBytes(UnsafeRawPointer(bytes))
        var elements: [BSONValue] = []
        var position: UInt32 = 4
        var element = tendril_bson_element_t()
        while tendril_bson_next_element(bytes, UInt32(size), &position, &element) == TENDRIL_STEP_ELEMENT {
            elements.append(array.value(atElementOffset: Int(element.offset), keyLength: Int(element.key_length)))
        }
        return .array(elements)
    }

    /// The length of the key of the element at `offset`: `known` when it is right, else found by
    /// scanning for the key's end within the document.
    private func keyLength(at offset: Int, known: Int?) -> Int? {
        let end = length - 1
        if let known, known >= 0, offset >= 4, offset + 1 + known < end, Self.keyEnds(data, at: offset, length: known) {
            return known
        }
        var index = offset + 1
        while index < end, data.load(fromByteOffset: index, as: UInt8.self) != 0 { index += 1 }
        return index < end ? index - offset - 1 : nil
    }
}

// Typed readers for the ODM's hot path: they read one scalar straight from the bytes of the
// element at `offset` (whose key is `keyLength` bytes), with every bound checked, and return
// nil for another type or an offset that does not fit. They compare raw type bytes with
// `BSONType.x.rawValue` (a constant) rather than building a `BSONType` per read: this is the hot path.
extension BSONBytes {
    @inlinable @inline(__always)
    func withScalar<R>(_ offset: Int, _ keyLength: Int, size: Int, _ read: (UInt8, UnsafeRawPointer) -> R?) -> R? {
        let valueStart = offset + keyLength + 2
        guard offset >= 4, keyLength >= 0, valueStart + size <= length - 1 else { return nil }
        guard Self.keyEnds(data, at: offset, length: keyLength) else { return nil }
        return read(data.load(fromByteOffset: offset, as: UInt8.self), data + valueStart)
    }

    /// True when the key starting after the type byte at `offset` is exactly `length` bytes:
    /// its terminating NUL is the first one.
    @inlinable @inline(__always)
    static func keyEnds(_ data: UnsafeRawPointer, at offset: Int, length: Int) -> Bool {
        for index in (offset + 1)..<(offset + 1 + length) where data.load(fromByteOffset: index, as: UInt8.self) == 0 {
            return false
        }
        return data.load(fromByteOffset: offset + 1 + length, as: UInt8.self) == 0
    }

    /// The BSON type byte of the element at `offset`, or nil when it does not fit.
    @inlinable
    package func typeByte(atElementOffset offset: Int) -> UInt8? {
        offset >= 4 && offset < length - 1 ? data.load(fromByteOffset: offset, as: UInt8.self) : nil
    }

    /// The BSON type of the element at `offset`, or nil when it does not fit or names no type.
    @inlinable
    package func type(atElementOffset offset: Int) -> BSONType? {
        typeByte(atElementOffset: offset).flatMap(BSONType.init(rawValue:))
    }

    /// A string element's text.
    @inlinable @inline(__always)
    package func string(atElementOffset offset: Int, keyLength: Int) -> String? {
        withScalar(offset, keyLength, size: 4) { type, value -> String? in
            guard type == BSONType.string.rawValue else { return nil }
            let count = Int(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
            let valueStart = offset + keyLength + 2
            guard count >= 1, valueStart + 4 + count <= length - 1 else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: value + 4, count: count - 1), as: UTF8.self)
        }
    }

    /// An int32 or int64 element's value.
    @inlinable @inline(__always)
    package func integer(atElementOffset offset: Int, keyLength: Int) -> Int64? {
        withScalar(offset, keyLength, size: 4) { type, value in
            switch type {
            case BSONType.int32.rawValue: Int64(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
            case BSONType.int64.rawValue where offset + keyLength + 2 + 8 <= length - 1: Int64(littleEndian: value.loadUnaligned(as: Int64.self))
            default: nil
            }
        }
    }

    /// A double element's value (or an int32's, converted exactly).
    @inlinable @inline(__always)
    package func double(atElementOffset offset: Int, keyLength: Int) -> Double? {
        withScalar(offset, keyLength, size: 4) { type, value in
            switch type {
            case BSONType.double.rawValue where offset + keyLength + 2 + 8 <= length - 1:
                Double(bitPattern: UInt64(littleEndian: value.loadUnaligned(as: UInt64.self)))
            case BSONType.int32.rawValue: Double(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
            default: nil
            }
        }
    }

    /// A boolean element's value.
    @inlinable @inline(__always)
    package func bool(atElementOffset offset: Int, keyLength: Int) -> Bool? {
        withScalar(offset, keyLength, size: 1) { type, value in type == BSONType.bool.rawValue ? value.load(as: UInt8.self) != 0 : nil }
    }

    /// A datetime element's milliseconds since the epoch.
    @inlinable @inline(__always)
    package func datetime(atElementOffset offset: Int, keyLength: Int) -> BSONDateTime? {
        withScalar(offset, keyLength, size: 8) { type, value in
            type == BSONType.datetime.rawValue ? BSONDateTime(millisecondsSinceEpoch: Int64(littleEndian: value.loadUnaligned(as: Int64.self))) : nil
        }
    }

    /// An ObjectId element's value.
    @inlinable @inline(__always)
    package func objectID(atElementOffset offset: Int, keyLength: Int) -> ObjectID? {
        withScalar(offset, keyLength, size: 12) { type, value in
            type == BSONType.objectID.rawValue ? ObjectID(unsafeBytes: UnsafeRawBufferPointer(start: value, count: 12), at: 0) : nil
        }
    }

    /// Where the elements of the array whose element starts at `offset` (key of `keyLength`
    /// bytes) lie: from its first element to its terminating NUL. nil when the element is not an
    /// array or does not fit in the document.
    package func arrayElements(atElementOffset offset: Int, keyLength: Int) -> Range<Int>? {
        let end = length - 1
        let arrayStart = offset + keyLength + 2
        guard offset >= 4, keyLength >= 0, arrayStart + 5 <= end, data.load(fromByteOffset: offset, as: UInt8.self) == BSONType.array.rawValue,
              Self.keyEnds(data, at: offset, length: keyLength) else { return nil }
        let arrayLength = Int(UInt32(littleEndian: data.loadUnaligned(fromByteOffset: arrayStart, as: UInt32.self)))
        let arrayEnd = arrayStart + arrayLength - 1   // the array's terminating NUL
        guard arrayLength >= 5, arrayEnd <= end else { return nil }
        return (arrayStart + 4)..<arrayEnd
    }

    /// Calls `counted` with the number of elements of the array whose element starts at `offset`
    /// (key of `keyLength` bytes), then `body` with the offset and key length of each, in order,
    /// until `body` returns false. One walk over the array's bytes finds both (the positions of up
    /// to 16 elements are kept on the stack; a longer array is walked a second time).
    /// - Returns: false when the element is not an array, does not fit, or `body` stopped.
    package func forEachArrayElement(atElementOffset offset: Int, keyLength: Int, counted: (Int) -> Void,
                                     _ body: (_ offset: Int, _ keyLength: Int) -> Bool) -> Bool {
        guard let elements = arrayElements(atElementOffset: offset, keyLength: keyLength) else { return false }
        // The element walk, over the bytes up to the array's terminating NUL, which it treats as a
        // document's: the same checked sizes as every other walk.
        let bytes = data.assumingMemoryBound(to: UInt8.self)
        let length = UInt32(elements.upperBound + 1)
        let start = UInt32(elements.lowerBound)
        return withUnsafeTemporaryAllocation(of: tendril_bson_position_t.self, capacity: 16) { room in
            guard let base = room.baseAddress else { return false }
            let count = Int(tendril_bson_element_positions(bytes, length, start, base, Int32(room.count)))
            guard count >= 0 else { return false }
            counted(count)
            if count <= room.count { return Self.visit(UnsafeBufferPointer(rebasing: room[..<count]), body) }
            return withUnsafeTemporaryAllocation(of: tendril_bson_position_t.self, capacity: count) { all in
                guard let base = all.baseAddress,
                      tendril_bson_element_positions(bytes, length, start, base, Int32(count)) == count else { return false }
                return Self.visit(UnsafeBufferPointer(all), body)
            }
        }
    }

    private static func visit(_ positions: UnsafeBufferPointer<tendril_bson_position_t>,
                              _ body: (_ offset: Int, _ keyLength: Int) -> Bool) -> Bool {
        for position in positions where !body(Int(position.offset), Int(position.key_length)) { return false }
        return true
    }

    /// The element that starts at `position`, among array elements ending at `end` (as
    /// ``arrayElements(atElementOffset:keyLength:)`` found them): its key's length, type byte,
    /// where its value starts and where the next element does. nil when it does not fit.
    package func element(at position: Int, before end: Int) -> (keyLength: Int, type: UInt8, value: Int, next: Int)? {
        guard position >= 4, position < end, end < length else { return nil }
        // The element walk, over the bytes up to the array's terminating NUL (`end`), which it
        // treats as a document's: the same checked sizes as every other walk.
        let bytes = data.assumingMemoryBound(to: UInt8.self)
        var next = UInt32(position)
        var element = tendril_bson_element_t()
        guard tendril_bson_next_element(bytes, UInt32(end + 1), &next, &element) == TENDRIL_STEP_ELEMENT,
              let value = element.value else { return nil }
        return (Int(element.key_length), element.type, value - bytes, Int(next))
    }

    /// The ObjectId element that starts at `position`, among array elements ending at `end`:
    /// where its 12 bytes start and where the next element does. nil when it is not an ObjectId
    /// or does not fit.
    package func objectIDElement(at position: Int, before end: Int) -> (value: Int, next: Int)? {
        guard let element = element(at: position, before: end), element.type == BSONType.objectID.rawValue else { return nil }
        return (element.value, element.next)
    }

    /// The ObjectId whose 12 bytes start at `offset` (an offset ``objectIDElement(at:before:)``
    /// returned); nil when they do not fit in the document.
    package func objectID(atValueOffset offset: Int) -> ObjectID? {
        guard offset >= 4, offset + 12 <= length - 1 else { return nil }
        return ObjectID(unsafeBytes: UnsafeRawBufferPointer(start: data + offset, count: 12), at: 0)
    }
}

extension BSONDocument {
    /// Calls `body` with a view of this document's bytes, kept alive for the call.
    package func withBytes<R>(_ body: (BSONBytes) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(BSONBytes(storage.data)) }
    }

    /// A view of this document's bytes for a holder that keeps this document itself (unchanged)
    /// for as long as it uses the view: the bytes live, and stay put, as long as the storage does.
    package var unretainedBytes: BSONBytes { BSONBytes(storage.data) }

    /// See ``BSONBytes/value(atElementOffset:keyLength:)``.
    package func value(atElementOffset offset: Int, keyLength: Int? = nil) -> BSONValue {
        withBytes { $0.value(atElementOffset: offset, keyLength: keyLength) }
    }

    /// See ``BSONBytes/typeByte(atElementOffset:)``.
    package func typeByte(atElementOffset offset: Int) -> UInt8? {
        withBytes { $0.typeByte(atElementOffset: offset) }
    }

    /// See ``BSONBytes/type(atElementOffset:)``.
    package func type(atElementOffset offset: Int) -> BSONType? {
        withBytes { $0.type(atElementOffset: offset) }
    }

    /// See ``BSONBytes/string(atElementOffset:keyLength:)``.
    package func string(atElementOffset offset: Int, keyLength: Int) -> String? {
        withBytes { $0.string(atElementOffset: offset, keyLength: keyLength) }
    }

    /// See ``BSONBytes/integer(atElementOffset:keyLength:)``.
    package func integer(atElementOffset offset: Int, keyLength: Int) -> Int64? {
        withBytes { $0.integer(atElementOffset: offset, keyLength: keyLength) }
    }

    /// See ``BSONBytes/double(atElementOffset:keyLength:)``.
    package func double(atElementOffset offset: Int, keyLength: Int) -> Double? {
        withBytes { $0.double(atElementOffset: offset, keyLength: keyLength) }
    }

    /// See ``BSONBytes/objectID(atElementOffset:keyLength:)``.
    package func objectID(atElementOffset offset: Int, keyLength: Int) -> ObjectID? {
        withBytes { $0.objectID(atElementOffset: offset, keyLength: keyLength) }
    }

    /// True when both documents share one storage: the same bytes, unchanged (a storage that is
    /// shared is never written to), at the same address.
    package func sharesStorage(with other: BSONDocument) -> Bool {
        storage === other.storage
    }

    /// The offset of the first element named `key` (as ``BSONBytes`` readers take it), or nil
    /// when the key is absent. One walk over the top-level elements, nothing allocated.
    package func elementOffset(forKey key: String) -> Int? {
        // No stored key holds a NUL.
        guard !key.utf8.contains(0) else { return nil }
        var key = key
        return withExtendedLifetime(storage) {
            key.withUTF8 { keyBytes in
                let found = tendril_bson_find_key(storage.data, UInt32(storage.length),
                                                  keyBytes.baseAddress ?? emptyKeyBytes, UInt32(keyBytes.count))
                return found >= 0 ? Int(found) : nil
            }
        }
    }
}

/// A valid address for an empty key (no byte of it is read; immutable, like `emptyKey`).
nonisolated(unsafe) private let emptyKeyBytes = UnsafeRawPointer(emptyKey).assumingMemoryBound(to: UInt8.self)
