internal import CTendrilMongoC

/// Where one top-level element sits in a document's bytes: the fast path the ODM uses to check
/// and read fields without decoding the whole document.
package struct BSONElementLocation: Sendable {
    /// Offset of the element's type byte.
    package let offset: UInt32
    /// Length of the key, in bytes.
    package let keyLength: UInt32
    /// The BSON type byte.
    package let type: UInt8
}

extension BSONDocument {
    /// Calls `body` with the location of every top-level element (one libbson walk, no values
    /// decoded) and the document's bytes, which stay valid during the call.
    package func withElementLocations<R>(_ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            let bytes = storage.bytes
            // Most documents have few keys: a stack buffer avoids a heap allocation.
            return try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * 32) { buffer in
                let count = Int(tendril_bson_index(storage.data, UInt32(storage.length), buffer.baseAddress, 32))
                if count <= 32 {
                    return try body(UnsafeBufferPointer(rebasing: buffer[..<(3 * count)]), bytes)
                }
                var large = [UInt32](repeating: 0, count: 3 * count)
                _ = large.withUnsafeMutableBufferPointer { tendril_bson_index(storage.data, UInt32(storage.length), $0.baseAddress, Int32(count)) }
                return try large.withUnsafeBufferPointer { try body($0, bytes) }
            }
        }
    }

    /// Calls `body` with the type bytes of the children of the array or document element at
    /// `offset` (key of `keyLength` bytes), decoding nothing; nil when it is not a container.
    package func withChildTypes<R>(ofElementAt offset: Int, keyLength: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        withExtendedLifetime(storage) {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer -> R? in
                let count = Int(tendril_bson_child_types(storage.data, UInt32(storage.length), UInt32(offset),
                                                         UInt32(keyLength), buffer.baseAddress, 64))
                guard count >= 0 else { return nil }
                if count <= 64 { return body(UnsafeBufferPointer(rebasing: buffer[..<count])) }
                var large = [UInt8](repeating: 0, count: count)
                _ = large.withUnsafeMutableBufferPointer {
                    tendril_bson_child_types(storage.data, UInt32(storage.length), UInt32(offset), UInt32(keyLength), $0.baseAddress, Int32(count))
                }
                return large.withUnsafeBufferPointer(body)
            }
        }
    }

    /// Decodes the value of the element whose type byte is at `offset` (from
    /// ``withElementLocations(_:)``). Common scalars are read straight from the validated bytes;
    /// everything else goes through libbson's iterator.
    package func value(atElementOffset offset: Int, keyLength knownKeyLength: Int? = nil) -> BSONValue {
        withExtendedLifetime(storage) {
            let bytes = storage.bytes
            guard offset >= 4, offset < bytes.count - 1 else { return .null }
            let type = bytes[offset]
            var valueStart = offset + 1
            if let knownKeyLength {
                valueStart += knownKeyLength   // the caller knows the key: no scan for its NUL
            } else {
                while valueStart < bytes.count, bytes[valueStart] != 0 { valueStart += 1 }
            }
            valueStart += 1
            let raw = UnsafeRawBufferPointer(bytes)
            switch type {
            case 0x01: return .double(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: UInt64.self))))
            case 0x02:
                let length = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int32.self)))
                let text = UnsafeBufferPointer(rebasing: bytes[(valueStart + 4)..<(valueStart + 4 + length - 1)])
                return .string(String(decoding: text, as: UTF8.self))
            case 0x07: return .objectID(ObjectID(unsafeBytes: raw, at: valueStart))
            case 0x08: return .bool(bytes[valueStart] != 0)
            case 0x09: return .datetime(BSONDateTime(millisecondsSinceEpoch: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int64.self))))
            case 0x0A: return .null
            case 0x10: return .int32(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int32.self)))
            case 0x12: return .int64(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: valueStart, as: Int64.self)))
            default:
                guard let handle = BSONIteratorHandle(storage),
                      bson_iter_init_from_data_at_offset(handle.iter, storage.data, storage.length, UInt32(offset), UInt32(valueStart - offset - 2))
                else { return .null }
                return BSONValue(decodingAt: handle.iter)
            }
        }
    }
}
