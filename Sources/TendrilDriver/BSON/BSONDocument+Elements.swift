internal import CTendrilMongoC

extension BSONDocument {
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
            // Offsets come from a walk of these same validated bytes; the checks below still
            // make a wrong offset an absent value, never a read out of bounds.
            guard offset >= 4, offset < bytes.count - 1 else { return .null }
            let type = bytes[offset]
            var valueStart = offset + 1
            if let knownKeyLength, valueStart + knownKeyLength < bytes.count, bytes[valueStart + knownKeyLength] == 0 {
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
