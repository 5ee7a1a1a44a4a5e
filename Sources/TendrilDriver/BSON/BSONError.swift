/// An error from the BSON layer: bytes, text or values that are not valid BSON.
///
/// ```swift
/// do { _ = try BSONDocument(bytes: untrustedBytes) }
/// catch let error as BSONError where error.kind == .malformedBytes { log(error) }
/// ```
public struct BSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a value a caller can switch over.
    public enum Kind: String, Sendable, Equatable {
        /// Lengths, terminators or type bytes are inconsistent.
        case malformedBytes
        /// A string or key is not valid UTF-8.
        case invalidUTF8
        /// Documents nest deeper than ``BSONDocument/maximumNestingDepth``.
        case nestingTooDeep
        /// A key cannot be encoded (it contains a NUL byte).
        case invalidKey
        /// A value cannot be encoded (a regex pattern or options containing a NUL byte).
        case invalidValue
        /// Extended JSON text could not be parsed.
        case invalidExtendedJSON
        /// A string is not 24 hexadecimal digits, or bytes are not 12.
        case invalidObjectID
        /// A string is not a valid Decimal128.
        case invalidDecimal128
        /// The document would exceed the largest size BSON can express.
        case documentTooLarge
    }

    /// The category of the failure.
    public let kind: Kind
    /// A human-readable explanation, naming the offending key or offset where known.
    public let message: String

    /// For `.invalidKey`: the key BSON could not encode (it holds a NUL byte). For `.invalidUTF8`
    /// found in stored bytes: the dotted path of the field that holds it (`address.city`). For
    /// `.nestingTooDeep`: the dotted path of the value that crosses the limit
    /// (`root.child.child`, `offices.3.location`), when known.
    public let key: String?

    /// For bytes received from outside that fail validation: the document's `_id`, when its top
    /// level reads up to it (an ObjectId, string or integer). Nil otherwise.
    public var documentID: BSONValue? { identity?.value }
    /// Boxed: a ``BSONValue`` may hold a document, which holds an error.
    private let identity: Identity?

    /// Creates an error of `kind` with an explanation, the offending key or path when there is
    /// one, and the failing document's `_id` when known.
    public init(_ kind: Kind, _ message: String, key: String? = nil, documentID: BSONValue? = nil) {
        self.kind = kind
        self.message = message
        self.key = key
        self.identity = documentID.map(Identity.init)
    }

    /// `.nestingTooDeep` for the value at `path`.
    static func nestingTooDeep(at path: String?) -> BSONError {
        let subject = path.map { "field \"\($0)\" nests" } ?? "documents nest"
        return BSONError(.nestingTooDeep, "\(subject) deeper than \(BSONDocument.maximumNestingDepth) levels (MongoDB's limit)",
                         key: path)
    }

    /// This error with `documentID` set.
    func identifying(_ documentID: BSONValue?) -> BSONError {
        BSONError(kind, message, key: key, documentID: documentID)
    }

    /// The kind and the message.
    public var description: String { "BSONError.\(kind.rawValue): \(message)" }

    private final class Identity: Sendable, Equatable {
        let value: BSONValue
        init(_ value: BSONValue) { self.value = value }
        static func == (lhs: Identity, rhs: Identity) -> Bool { lhs.value == rhs.value }
    }
}

/// A ``BSONError`` held out of line, where an inline one would widen a common value for a rare
/// case (``BSONDocument/encodingError``). Immutable, so `Sendable`.
final class BSONErrorBox: Sendable {
    let error: BSONError
    init(_ error: BSONError) { self.error = error }
}
