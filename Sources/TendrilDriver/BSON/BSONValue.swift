import Foundation

/// One BSON value: every type of the BSON specification, including the deprecated ones.
///
/// Literals build values directly:
/// ```swift
/// let filter: BSONDocument = ["age": ["$gte": 21], "tags": ["a", "b"], "nickname": .null]
/// if case .string(let name)? = person["name"] { print(name) }
/// print(person["age"]?.intValue ?? 0)
/// ```
/// An integer literal becomes `.int32` when it fits in 32 bits and `.int64` otherwise.
public enum BSONValue: Sendable, Hashable {
    /// A 64-bit IEEE 754 floating point number.
    case double(Double)
    /// A UTF-8 string (it may contain NUL bytes).
    case string(String)
    /// An embedded document.
    case document(BSONDocument)
    /// An array (stored as a document keyed "0", "1", ...).
    case array([BSONValue])
    /// Binary data with a subtype.
    case binary(BSONBinary)
    /// Deprecated in BSON; kept so old data round-trips.
    case undefined
    /// A 12-byte ObjectId.
    case objectID(ObjectID)
    /// A boolean.
    case bool(Bool)
    /// A UTC datetime in milliseconds since the epoch.
    case datetime(BSONDateTime)
    /// Null.
    case null
    /// A regular expression with its options.
    case regex(BSONRegularExpression)
    /// Deprecated in BSON; kept so old data round-trips.
    case dbPointer(BSONDBPointer)
    /// JavaScript code.
    case javascript(String)
    /// Deprecated in BSON; kept so old data round-trips.
    case symbol(String)
    /// Deprecated in MongoDB; kept so old data round-trips.
    case javascriptWithScope(BSONCodeWithScope)
    /// A 32-bit integer.
    case int32(Int32)
    /// MongoDB's internal replication timestamp.
    case timestamp(BSONTimestamp)
    /// A 64-bit integer.
    case int64(Int64)
    /// A 128-bit decimal, carried exactly.
    case decimal128(Decimal128)
    /// Sorts before every other value.
    case minKey
    /// Sorts after every other value.
    case maxKey

    /// The BSON type's name as MongoDB's `$type` operator spells it (`"string"`, `"objectId"`, ...),
    /// for error messages that name expected and found types.
    public var typeName: String { type.name }
}

// MARK: - Typed access

extension BSONValue {
    /// The string, if this is `.string`.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The value as an `Int`, if this is `.int32` or `.int64` (no conversion from doubles).
    public var intValue: Int? {
        switch self {
        case .int32(let value): Int(value)
        case .int64(let value): Int(exactly: value)
        default: nil
        }
    }

    /// The value, if this is `.int32`.
    public var int32Value: Int32? {
        if case .int32(let value) = self { value } else { nil }
    }

    /// The value, if this is `.int64`.
    public var int64Value: Int64? {
        if case .int64(let value) = self { value } else { nil }
    }

    /// The value, if this is `.double`.
    public var doubleValue: Double? {
        if case .double(let value) = self { value } else { nil }
    }

    /// The value, if this is `.bool`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    /// The document, if this is `.document`.
    public var documentValue: BSONDocument? {
        if case .document(let value) = self { value } else { nil }
    }

    /// The elements, if this is `.array`.
    public var arrayValue: [BSONValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    /// The id, if this is `.objectID`.
    public var objectIDValue: ObjectID? {
        if case .objectID(let value) = self { value } else { nil }
    }

    /// The instant, if this is `.datetime`.
    public var dateValue: Date? {
        if case .datetime(let value) = self { value.date } else { nil }
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { true } else { false }
    }
}

// MARK: - Literals

extension BSONValue: ExpressibleByStringLiteral {
    /// `.string` of the literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension BSONValue: ExpressibleByIntegerLiteral {
    /// `.int32` when the literal fits in 32 bits, else `.int64`.
    public init(integerLiteral value: Int) {
        if let small = Int32(exactly: value) { self = .int32(small) } else { self = .int64(Int64(value)) }
    }
}

extension BSONValue: ExpressibleByFloatLiteral {
    /// `.double` of the literal.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension BSONValue: ExpressibleByBooleanLiteral {
    /// `.bool` of the literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension BSONValue: ExpressibleByArrayLiteral {
    /// `.array` of the elements.
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }
}

extension BSONValue: ExpressibleByDictionaryLiteral {
    /// `.document` of the pairs, in order (see ``BSONDocument/encodingError``).
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self = .document(BSONDocument(elements: elements))
    }
}

// MARK: - Conversions from Swift values

extension BSONValue {
    /// `.int64` of `value`: Swift's `Int` is 64 bits, so it is stored as such.
    public init(_ value: Int) { self = .int64(Int64(value)) }
    /// `.datetime` of `date`, truncated to the millisecond.
    public init(_ date: Date) { self = .datetime(BSONDateTime(date)) }
    /// `.objectID` of `id`.
    public init(_ id: ObjectID) { self = .objectID(id) }
    /// `.document` of `document`.
    public init(_ document: BSONDocument) { self = .document(document) }
}

extension BSONValue: CustomStringConvertible {
    /// The value in relaxed extended JSON, as it would appear inside a document.
    public var description: String {
        let wrapped = BSONDocument(elements: [("v", self)])
        let json = wrapped.relaxedExtendedJSON
        // Strip the `{ "v" : ` wrapper libbson prints around the value.
        guard json.hasPrefix("{ \"v\" : "), json.hasSuffix(" }") else { return json }
        return String(json.dropFirst(8).dropLast(2))
    }
}
