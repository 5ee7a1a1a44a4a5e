internal import CTendrilMongoC

extension BSONDocument {
    /// The document as canonical extended JSON: every type explicit, so it round-trips exactly.
    ///
    /// ```swift
    /// let doc: BSONDocument = ["n": 1]
    /// doc.canonicalExtendedJSON   // { "n" : { "$numberInt" : "1" } }
    /// ```
    public var canonicalExtendedJSON: String {
        // withBSON refuses only bytes libbson rejects, and stored bytes were validated on the way in.
        Self.json((try? storage.withBSON { bson_as_canonical_extended_json($0, nil) }) ?? nil)
    }

    /// The document as relaxed extended JSON: numbers and dates in their natural JSON form.
    ///
    /// ```swift
    /// let doc: BSONDocument = ["n": 1]
    /// doc.relaxedExtendedJSON     // { "n" : 1 }
    /// ```
    public var relaxedExtendedJSON: String {
        // As above: validated bytes are never refused.
        Self.json((try? storage.withBSON { bson_as_relaxed_extended_json($0, nil) }) ?? nil)
    }

    /// Parses canonical or relaxed extended JSON (legacy shell forms such as `$oid` too).
    ///
    /// ```swift
    /// let doc = try BSONDocument(extendedJSON: #"{"_id": {"$oid": "507f1f77bcf86cd799439011"}}"#)
    /// ```
    /// - Throws: ``BSONError`` `.invalidExtendedJSON` with libbson's explanation, or a
    ///   validation error when the result is not valid BSON (invalid UTF-8, nesting too deep).
    public init(extendedJSON: String) throws {
        var error = bson_error_t()
        var text = extendedJSON
        let parsed = text.withUTF8 { buffer in
            bson_new_from_json(buffer.baseAddress, buffer.count, &error)
        }
        guard let parsed else {
            throw BSONError(.invalidExtendedJSON, error.messageText)
        }
        let storage = BSONStorage.owning(parsed)
        try BSONDocument.validate(storage.data, length: storage.length)
        self.init(storage: storage)
    }

    private static func json(_ text: UnsafeMutablePointer<CChar>?) -> String {
        guard let text else { return "" }
        defer { bson_free(text) }
        return String(cString: text)
    }
}

extension bson_error_t {
    /// libbson's NUL-terminated message buffer as a Swift string.
    var messageText: String {
        withUnsafeBytes(of: message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
