internal import CTendrilMongoC

/// Runs a libmongoc call that reports through `bson_error_t` and a `bson_t *reply` out-parameter,
/// copies the reply out, and turns failure into a ``MongoError``.
func performLibmongocCall(_ call: (OpaquePointer, UnsafeMutablePointer<bson_error_t>) -> Bool) throws -> BSONDocument {
    var error = bson_error_t()
    let reply: OpaquePointer = tendril_bson_alloc_uninitialized()
    // An empty, inline bson_t: safe to destroy whether or not the call re-initialises it.
    bson_init(reply)
    defer {
        bson_destroy(reply)
        tendril_bson_free_struct(reply)
    }
    let succeeded = call(reply, &error)
    // The failure is thrown either way; an invalid reply only leaves the error without its details.
    guard succeeded else { throw MongoError(error, reply: try? BSONDocument(validatingBorrowed: reply)) }
    // A reply that fails validation must not read as zero counts.
    return try BSONDocument(validatingBorrowed: reply)
}

/// Throws the ``MongoError`` a libmongoc call without a reply reported.
func performLibmongocCall(_ call: (UnsafeMutablePointer<bson_error_t>) -> Bool) throws {
    var error = bson_error_t()
    guard call(&error) else { throw MongoError(error) }
}

extension BSONDocument {
    /// Lends the `bson_t` to libmongoc, after refusing a document whose literal could not be encoded.
    func withBSON<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try checkEncodable()
        return try storage.withBSON { try body($0) }
    }

    /// A count in a reply (servers send int32 or int64), or 0 when absent.
    func count(_ key: String) -> Int {
        switch self[key] {
        case .int32(let value)?: Int(value)
        case .int64(let value)?: Int(value)
        case .double(let value)?: Int(exactly: value) ?? 0
        default: 0
        }
    }
}

/// Database and collection names reach libmongoc as C strings.
func validateName(_ name: String, _ what: String) throws {
    guard !name.isEmpty, !name.utf8.contains(0) else {
        throw MongoError(kind: .invalidArgument, message: "invalid \(what) name \(name.debugDescription)")
    }
}
