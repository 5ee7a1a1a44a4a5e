internal import CTendrilMongoC

// Reading values out of a libbson iterator and appending them to a bson_t.
// Only valid documents reach these functions (see BSONDocument), so every
// accessor below reads in bounds.

extension BSONValue {
    static func key(at iter: OpaquePointer) -> String {
        let length = Int(bson_iter_key_len(iter))
        return bson_iter_key(iter).withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    init(decodingAt iter: OpaquePointer) {
        switch bson_iter_type(iter) {
        case BSON_TYPE_DOUBLE:
            self = .double(bson_iter_double(iter))
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            self = .string(decodeText(bson_iter_utf8(iter, &length), length))
        case BSON_TYPE_DOCUMENT:
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_document(iter, &length, &data)
            self = .document(BSONDocument(nestedAt: data, length: length))
        case BSON_TYPE_ARRAY:
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_array(iter, &length, &data)
            self = .array(BSONDocument(nestedAt: data, length: length).map(\.value))
        case BSON_TYPE_BINARY:
            var subtype = bson_subtype_t(0)
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_binary(iter, &subtype, &length, &data)
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) } ?? []
            self = .binary(BSONBinary(subtype: .init(rawValue: UInt8(truncatingIfNeeded: subtype.rawValue)), data: bytes))
        case BSON_TYPE_UNDEFINED:
            self = .undefined
        case BSON_TYPE_OID:
            self = .objectID(ObjectID(bson_iter_oid(iter).pointee))
        case BSON_TYPE_BOOL:
            self = .bool(bson_iter_bool(iter))
        case BSON_TYPE_DATE_TIME:
            self = .datetime(BSONDateTime(millisecondsSinceEpoch: bson_iter_date_time(iter)))
        case BSON_TYPE_NULL:
            self = .null
        case BSON_TYPE_REGEX:
            var options: UnsafePointer<CChar>?
            let pattern = bson_iter_regex(iter, &options)
            self = .regex(BSONRegularExpression(pattern: decodeCString(pattern), options: decodeCString(options)))
        case BSON_TYPE_DBPOINTER:
            var length: UInt32 = 0
            var namespace: UnsafePointer<CChar>?
            var oid: UnsafePointer<bson_oid_t>?
            bson_iter_dbpointer(iter, &length, &namespace, &oid)
            let id = oid.map { ObjectID($0.pointee) } ?? ObjectID(bson_oid_t())
            self = .dbPointer(BSONDBPointer(namespace: decodeText(namespace, length), id: id))
        case BSON_TYPE_CODE:
            var length: UInt32 = 0
            self = .javascript(decodeText(bson_iter_code(iter, &length), length))
        case BSON_TYPE_SYMBOL:
            var length: UInt32 = 0
            self = .symbol(decodeText(bson_iter_symbol(iter, &length), length))
        case BSON_TYPE_CODEWSCOPE:
            var length: UInt32 = 0
            var scopeLength: UInt32 = 0
            var scope: UnsafePointer<UInt8>?
            let code = bson_iter_codewscope(iter, &length, &scopeLength, &scope)
            let scopeDocument = BSONDocument(nestedAt: scope, length: scopeLength)
            self = .javascriptWithScope(BSONCodeWithScope(code: decodeText(code, length), scope: scopeDocument))
        case BSON_TYPE_INT32:
            self = .int32(bson_iter_int32(iter))
        case BSON_TYPE_TIMESTAMP:
            var timestamp: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iter, &timestamp, &increment)
            self = .timestamp(BSONTimestamp(timestamp: timestamp, increment: increment))
        case BSON_TYPE_INT64:
            self = .int64(bson_iter_int64(iter))
        case BSON_TYPE_DECIMAL128:
            var value = bson_decimal128_t()
            bson_iter_decimal128(iter, &value)
            self = .decimal128(Decimal128(value))
        case BSON_TYPE_MINKEY:
            self = .minKey
        case BSON_TYPE_MAXKEY:
            self = .maxKey
        default:
            // Unreachable for validated documents: libbson's iterator rejects unknown types.
            self = .undefined
        }
    }

    /// Appends `value` under `key`; libbson's append functions are all-or-nothing.
    /// `level` is how deep the document being appended to sits below the one `append` was
    /// called on: nesting past ``BSONDocument/maximumNestingDepth`` throws before anything
    /// recurses further (libbson's validator, which libmongoc runs on every insert, recurses
    /// without a limit and overflows the stack on documents nested about 10,000 deep).
    static func append(_ value: BSONValue, forKey key: String, to bson: OpaquePointer, level: Int = 0) throws {
        if key.utf8.contains(0) {
            throw BSONError(.invalidKey, "key \(key.debugDescription) contains a NUL byte, which BSON cannot encode", key: key)
        }
        guard let keyLength = Int32(exactly: key.utf8.count) else {
            throw BSONError(.documentTooLarge, "a key of \(key.utf8.count) bytes exceeds the BSON size limit")
        }
        var key = key
        let appended: Bool
        do {
            appended = try key.withUTF8 { buffer in
                try buffer.withMemoryRebound(to: CChar.self) { chars in
                    try value.append(to: bson, key: chars.baseAddress ?? emptyKey, keyLength: keyLength, level: level)
                }
            }
        } catch let error as BSONError where error.kind == .nestingTooDeep {
            // Each level names itself on the way out, so the error carries the whole path.
            throw BSONError.nestingTooDeep(at: error.key.map { key + "." + $0 } ?? key)
        }
        guard appended else {
            throw BSONError(.documentTooLarge, "appending \(key.debugDescription) would exceed the BSON size limit")
        }
    }

    private func append(to bson: OpaquePointer, key: UnsafePointer<CChar>, keyLength: Int32, level: Int) throws -> Bool {
        switch self {
        case .double(let value):
            return bson_append_double(bson, key, keyLength, value)
        case .string(let value):
            return try withText(value) { bson_append_utf8(bson, key, keyLength, $0, $1) }
        case .document(let document):
            try document.checkEncodable()
            try document.checkNesting(below: level + 1)
            return try document.storage.withBSON { bson_append_document(bson, key, keyLength, $0) }
        case .array(let elements):
            guard level + 1 <= BSONDocument.maximumNestingDepth else { throw BSONError.nestingTooDeep(at: nil) }
            let array = BSONDocument()
            guard let growable = array.storage.growable else { throw BSONError(.malformedBytes, "a new array cannot be appended to") }
            for (index, element) in elements.enumerated() {
                try BSONValue.append(element, forKey: String(index), to: growable, level: level + 1)
            }
            return try array.storage.withBSON { bson_append_array(bson, key, keyLength, $0) }
        case .binary(let binary):
            let subtype = bson_subtype_t(rawValue: UInt32(binary.subtype.rawValue))
            guard let length = UInt32(exactly: binary.data.count), length < UInt32(Int32.max) else {
                throw BSONError(.documentTooLarge, "\(binary.data.count) bytes of binary data exceed the BSON size limit")
            }
            return binary.data.withUnsafeBufferPointer {
                bson_append_binary(bson, key, keyLength, subtype, $0.baseAddress, length)
            }
        case .undefined:
            return bson_append_undefined(bson, key, keyLength)
        case .objectID(let id):
            return id.withOID { bson_append_oid(bson, key, keyLength, $0) }
        case .bool(let value):
            return bson_append_bool(bson, key, keyLength, value)
        case .datetime(let value):
            return bson_append_date_time(bson, key, keyLength, value.millisecondsSinceEpoch)
        case .null:
            return bson_append_null(bson, key, keyLength)
        case .regex(let regex):
            // BSON stores both parts of a regex as C strings.
            return try withCText(regex.options, field: "regex options") { options in
                try withCText(regex.pattern, field: "regex pattern") { bson_append_regex(bson, key, keyLength, $0, options) }
            }
        case .dbPointer(let pointer):
            return try appendRawElement(to: bson, key: key, keyLength: keyLength, type: BSONType.dbPointer.rawValue) { body in
                body.appendBSONString(pointer.namespace)
                body.append(contentsOf: pointer.id.bytes)
            }
        case .javascript(let code):
            return try appendRawElement(to: bson, key: key, keyLength: keyLength, type: BSONType.javascript.rawValue) { body in
                body.appendBSONString(code)
            }
        case .symbol(let symbol):
            return try withText(symbol) { bson_append_symbol(bson, key, keyLength, $0, $1) }
        case .javascriptWithScope(let value):
            try value.scope.checkEncodable()
            try value.scope.checkNesting(below: level + 1)
            return try appendRawElement(to: bson, key: key, keyLength: keyLength, type: BSONType.javascriptWithScope.rawValue) { body in
                let scope = value.scope.bytes
                body.appendInt32(4 + 4 + value.code.utf8.count + 1 + scope.count)
                body.appendBSONString(value.code)
                body.append(contentsOf: scope)
            }
        case .int32(let value):
            return bson_append_int32(bson, key, keyLength, value)
        case .timestamp(let value):
            return bson_append_timestamp(bson, key, keyLength, value.timestamp, value.increment)
        case .int64(let value):
            return bson_append_int64(bson, key, keyLength, value)
        case .decimal128(let value):
            var decimal = value.cValue
            return bson_append_decimal128(bson, key, keyLength, &decimal)
        case .minKey:
            return bson_append_minkey(bson, key, keyLength)
        case .maxKey:
            return bson_append_maxkey(bson, key, keyLength)
        }
    }
}

extension BSONDocument {
    /// Copies a nested document out of a validated parent.
    init(nestedAt data: UnsafePointer<UInt8>?, length: UInt32) {
        guard let data else {
            self.init()
            return
        }
        self.init(storage: BSONStorage.copyingValidated(data, length: Int(length)))
    }
}

private func decodeText(_ text: UnsafePointer<CChar>?, _ length: UInt32) -> String {
    guard let text else { return "" }
    return text.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
        String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
    }
}

private func decodeCString(_ text: UnsafePointer<CChar>?) -> String {
    guard let text else { return "" }
    return String(cString: text)
}

/// Strings with an explicit length may hold NUL bytes, as BSON strings can.
private func withText<R>(_ text: String, _ body: (UnsafePointer<CChar>, Int32) -> R) throws -> R {
    guard let length = Int32(exactly: text.utf8.count), length < Int32.max else {
        throw BSONError(.documentTooLarge, "a string of \(text.utf8.count) bytes exceeds the BSON size limit")
    }
    var text = text
    return text.withUTF8 { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress ?? emptyKey, length) }
    }
}

/// libbson appends code, code-with-scope and DBPointer from C strings only, which cannot hold
/// the NUL bytes BSON allows in them; such elements are encoded here and concatenated.
private func appendRawElement(
    to bson: OpaquePointer, key: UnsafePointer<CChar>, keyLength: Int32, type: UInt8,
    _ encodeValue: (inout [UInt8]) -> Void
) throws -> Bool {
    let keyBytes = UnsafeBufferPointer(start: key, count: Int(keyLength)).map { UInt8(bitPattern: $0) }
    guard !keyBytes.contains(0) else { return false }
    var element: [UInt8] = [type] + keyBytes + [0]
    encodeValue(&element)
    guard element.count < Int(Int32.max) - 5 else {
        throw BSONError(.documentTooLarge, "an element of \(element.count) bytes exceeds the BSON size limit")
    }
    var document = [UInt8]()
    document.appendInt32(4 + element.count + 1)
    document.append(contentsOf: element)
    document.append(0)
    let single = try BSONDocument(bytes: document)
    return try single.storage.withBSON { bson_concat(bson, $0) }
}

extension [UInt8] {
    /// Lengths past Int32 wrap here; `appendRawElement` rejects such elements by their size.
    mutating func appendInt32(_ value: Int) {
        Swift.withUnsafeBytes(of: Int32(truncatingIfNeeded: value).littleEndian) { append(contentsOf: $0) }
    }

    /// A BSON string: length including the terminator, UTF-8 bytes, NUL.
    mutating func appendBSONString(_ text: String) {
        appendInt32(text.utf8.count + 1)
        append(contentsOf: text.utf8)
        append(0)
    }
}

/// BSON stores regex patterns and options as C strings, so a NUL inside them cannot be encoded.
private func withCText<R>(_ text: String, field: String, _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
    guard !text.utf8.contains(0) else {
        throw BSONError(.invalidValue, "the \(field) contains a NUL byte, which BSON stores as a C string")
    }
    return try text.withCString(body)
}
