internal import CTendrilMongoC

extension BSONDocument {
    /// Decodes the value of the element whose type byte is at `offset` (from
    /// ``withElementLocations(_:)``). Common scalars are read straight from the validated bytes;
    /// everything else goes through libbson's iterator.
    package func value(atElementOffset offset: Int, keyLength knownKeyLength: Int? = nil) -> BSONValue {
        withExtendedLifetime(storage) {
            let bytes = storage.bytes
            // Offsets come from a walk of these same validated bytes; the checks below still
            // make a wrong offset an absent value, never a read out of bounds.
            guard offset >= 4, offset < bytes.count - 1 else { return .null }
            let type = bytes[offset]
            var valueStart = offset + 1
            if let knownKeyLength, knownKeyLength >= 0, valueStart + knownKeyLength < bytes.count,
               Self.keyEnds(UnsafeRawPointer(storage.data), at: offset, length: knownKeyLength) {
                valueStart += knownKeyLength   // the caller knows the key: no scan for its NUL
            } else {
                while valueStart < bytes.count, bytes[valueStart] != 0 { valueStart += 1 }
            }
            valueStart += 1
            let end = bytes.count - 1   // the document's terminating NUL
            func fits(_ size: Int) -> Bool { valueStart >= 0 && size >= 0 && valueStart + size <= end }
            let raw = UnsafeRawBufferPointer(bytes)
            switch type {
            case 0x01 where fits(8): return .double(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: UInt64.self))))
            case 0x02 where fits(4):
                let length = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int32.self)))
                guard length >= 1, fits(4 + length) else { return .null }
                let text = UnsafeBufferPointer(rebasing: bytes[(valueStart + 4)..<(valueStart + 4 + length - 1)])
                return .string(String(decoding: text, as: UTF8.self))
            case 0x07 where fits(12): return .objectID(ObjectID(unsafeBytes: raw, at: valueStart))
            case 0x08 where fits(1): return .bool(bytes[valueStart] != 0)
            case 0x09 where fits(8): return .datetime(BSONDateTime(millisecondsSinceEpoch: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int64.self))))
            case 0x0A: return .null
            case 0x10 where fits(4): return .int32(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int32.self)))
            case 0x12 where fits(8): return .int64(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int64.self)))
            case 0x01, 0x02, 0x07, 0x08, 0x09, 0x10, 0x12:
                return .null
            default:
                guard let handle = BSONIteratorHandle(storage),
                      bson_iter_init_from_data_at_offset(handle.iter, storage.data, storage.length, UInt32(offset), UInt32(valueStart - offset - 2))
                else { return .null }
                return BSONValue(decodingAt: handle.iter)
            }
        }
    }
}

// Typed readers for the ODM's hot path: they read one scalar straight from the bytes of the
// element at `offset` (whose key is `keyLength` bytes), with every bound checked, and return
// nil for another type or an offset that does not fit.
extension BSONDocument {
    @inline(__always)
    private func withScalar<R>(_ offset: Int, _ keyLength: Int, size: Int, _ read: (UInt8, UnsafeRawPointer) -> R?) -> R? {
        withExtendedLifetime(storage) {
            let length = storage.length
            let valueStart = offset + keyLength + 2
            guard offset >= 4, keyLength >= 0, valueStart + size <= length - 1 else { return nil }
            let data = UnsafeRawPointer(storage.data)
            guard Self.keyEnds(data, at: offset, length: keyLength) else { return nil }
            return read(data.load(fromByteOffset: offset, as: UInt8.self), data + valueStart)
        }
    }

    /// True when the key starting after the type byte at `offset` is exactly `length` bytes:
    /// its terminating NUL is the first one.
    @inline(__always)
    private static func keyEnds(_ data: UnsafeRawPointer, at offset: Int, length: Int) -> Bool {
        for index in (offset + 1)..<(offset + 1 + length) where data.load(fromByteOffset: index, as: UInt8.self) == 0 {
            return false
        }
        return data.load(fromByteOffset: offset + 1 + length, as: UInt8.self) == 0
    }

    /// The BSON type byte of the element at `offset`, or nil when it does not fit.
    package func typeByte(atElementOffset offset: Int) -> UInt8? {
        withExtendedLifetime(storage) {
            offset >= 4 && offset < storage.length - 1 ? UnsafeRawPointer(storage.data).load(fromByteOffset: offset, as: UInt8.self) : nil
        }
    }

    /// A string element's text.
    package func string(atElementOffset offset: Int, keyLength: Int) -> String? {
        withExtendedLifetime(storage) {
            withScalar(offset, keyLength, size: 4) { type, value -> String? in
                guard type == 0x02 else { return nil }
                let count = Int(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
                let valueStart = offset + keyLength + 2
                guard count >= 1, valueStart + 4 + count <= storage.length - 1 else { return nil }
                return String(decoding: UnsafeRawBufferPointer(start: value + 4, count: count - 1), as: UTF8.self)
            }
        }
    }

    /// An int32 or int64 element's value.
    package func integer(atElementOffset offset: Int, keyLength: Int) -> Int64? {
        withScalar(offset, keyLength, size: 4) { type, value in
            switch type {
            case 0x10: Int64(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
            case 0x12 where offset + keyLength + 2 + 8 <= storage.length - 1: Int64(littleEndian: value.loadUnaligned(as: Int64.self))
            default: nil
            }
        }
    }

    /// A double element's value (or an int32's, converted exactly).
    package func double(atElementOffset offset: Int, keyLength: Int) -> Double? {
        withScalar(offset, keyLength, size: 4) { type, value in
            switch type {
            case 0x01 where offset + keyLength + 2 + 8 <= storage.length - 1:
                Double(bitPattern: UInt64(littleEndian: value.loadUnaligned(as: UInt64.self)))
            case 0x10: Double(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
            default: nil
            }
        }
    }

    /// A boolean element's value.
    package func bool(atElementOffset offset: Int, keyLength: Int) -> Bool? {
        withScalar(offset, keyLength, size: 1) { type, value in type == 0x08 ? value.load(as: UInt8.self) != 0 : nil }
    }

    /// A datetime element's milliseconds since the epoch.
    package func datetime(atElementOffset offset: Int, keyLength: Int) -> BSONDateTime? {
        withScalar(offset, keyLength, size: 8) { type, value in
            type == 0x09 ? BSONDateTime(millisecondsSinceEpoch: Int64(littleEndian: value.loadUnaligned(as: Int64.self))) : nil
        }
    }

    /// An ObjectId element's value.
    package func objectID(atElementOffset offset: Int, keyLength: Int) -> ObjectID? {
        withScalar(offset, keyLength, size: 12) { type, value in
            type == 0x07 ? ObjectID(unsafeBytes: UnsafeRawBufferPointer(start: value, count: 12), at: 0) : nil
        }
    }
}
