/// A BSON type, as the specification numbers it: the type byte that starts each element.
///
/// ```swift
/// let value: BSONValue = "Ada"
/// value.type == .string          // true
/// BSONType(rawValue: 0x10)       // .int32
/// BSONType.int64.name            // "long", as MongoDB's `$type` spells it
/// ```
public enum BSONType: UInt8, Sendable, Hashable, CaseIterable {
    /// A 64-bit IEEE 754 floating point number.
    case double = 0x01
    /// A UTF-8 string.
    case string = 0x02
    /// An embedded document.
    case document = 0x03
    /// An array.
    case array = 0x04
    /// Binary data with a subtype.
    case binary = 0x05
    /// Deprecated in BSON.
    case undefined = 0x06
    /// A 12-byte ObjectId.
    case objectID = 0x07
    /// A boolean.
    case bool = 0x08
    /// A UTC datetime in milliseconds since the epoch.
    case datetime = 0x09
    /// Null.
    case null = 0x0A
    /// A regular expression with its options.
    case regex = 0x0B
    /// Deprecated in BSON.
    case dbPointer = 0x0C
    /// JavaScript code.
    case javascript = 0x0D
    /// Deprecated in BSON.
    case symbol = 0x0E
    /// JavaScript code with a scope document (deprecated in MongoDB).
    case javascriptWithScope = 0x0F
    /// A 32-bit integer.
    case int32 = 0x10
    /// MongoDB's internal replication timestamp.
    case timestamp = 0x11
    /// A 64-bit integer.
    case int64 = 0x12
    /// A 128-bit decimal.
    case decimal128 = 0x13
    /// Sorts before every other value.
    case minKey = 0xFF
    /// Sorts after every other value.
    case maxKey = 0x7F

    /// The type's name as MongoDB's `$type` operator spells it (`"string"`, `"objectId"`, ...).
    public var name: String {
        switch self {
        case .double: "double"
        case .string: "string"
        case .document: "object"
        case .array: "array"
        case .binary: "binData"
        case .undefined: "undefined"
        case .objectID: "objectId"
        case .bool: "bool"
        case .datetime: "date"
        case .null: "null"
        case .regex: "regex"
        case .dbPointer: "dbPointer"
        case .javascript: "javascript"
        case .symbol: "symbol"
        case .javascriptWithScope: "javascriptWithScope"
        case .int32: "int"
        case .timestamp: "timestamp"
        case .int64: "long"
        case .decimal128: "decimal"
        case .minKey: "minKey"
        case .maxKey: "maxKey"
        }
    }
}

extension BSONValue {
    /// The value's BSON type.
    public var type: BSONType {
        switch self {
        case .double: .double
        case .string: .string
        case .document: .document
        case .array: .array
        case .binary: .binary
        case .undefined: .undefined
        case .objectID: .objectID
        case .bool: .bool
        case .datetime: .datetime
        case .null: .null
        case .regex: .regex
        case .dbPointer: .dbPointer
        case .javascript: .javascript
        case .symbol: .symbol
        case .javascriptWithScope: .javascriptWithScope
        case .int32: .int32
        case .timestamp: .timestamp
        case .int64: .int64
        case .decimal128: .decimal128
        case .minKey: .minKey
        case .maxKey: .maxKey
        }
    }
}
