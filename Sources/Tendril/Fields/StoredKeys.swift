import TendrilDriver

/// What Tendril accepts as a key of stored data: declared field names, and the keys of
/// dictionaries and free-form documents a document saves.
///
/// A key may not be empty, contain `.` (MongoDB reads it as a path), contain `$` (MongoDB reads
/// a leading `$` as an operator, and a key holding one anywhere cannot be queried or updated
/// safely), or contain NUL (BSON ends keys at NUL). Rejected with a
/// ``DocumentError/Kind/invalidFieldKey`` naming the field and the key, before anything is sent.
enum StoredKeys {
    /// True when `key` may be stored.
    static func isValid(_ key: String) -> Bool {
        !key.isEmpty && !key.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "$") || $0 == 0 }
    }

    /// The first key inside `value` (at any depth of its documents and arrays) that may not be
    /// stored, or nil. Array indexes are not keys of the user's.
    static func firstInvalidKey(in value: BSONValue) -> String? {
        switch value {
        case .document(let document):
            // A key BSON cannot encode at all (NUL) was left out of the bytes, and kept here.
            if let error = document.encodingError, error.kind == .invalidKey, let unencodable = error.key { return unencodable }
            for (key, element) in document {
                if !isValid(key) { return key }
                if let nested = firstInvalidKey(in: element) { return nested }
            }
            return nil
        case .array(let elements):
            for element in elements {
                if let nested = firstInvalidKey(in: element) { return nested }
            }
            return nil
        case .javascriptWithScope(let code):
            return firstInvalidKey(in: .document(code.scope))
        default:
            return nil
        }
    }

    /// How an error names a bad key inside field `field`: `scores["a.b"]`.
    static func describe(_ key: String, in field: String) -> String {
        "\(field)[\(key.debugDescription)]"
    }
}
