import Foundation

/// A Swift type that a ``Field`` can store: it converts itself to and from one BSON value.
///
/// Tendril conforms the common types (`String`, `Int`, `Int32`, `Int64`, `Double`, `Bool`,
/// `Date`, `ObjectID`, `Decimal128`, `BSONBinary`, `Data`, `BSONValue`, `BSONDocument`) and
/// `Optional`, `Array` and `[String: V]` of conforming types. A `RawRepresentable` enum
/// conforms by declaration:
/// ```swift
/// enum Role: String, FieldValue { case admin, member }
/// ```
/// A type of your own conforms through `bsonValue`, ``decode(_:)`` and `expectedBSONType`:
/// ```swift
/// struct Celsius: FieldValue {
///     var degrees: Double
///     var bsonValue: BSONValue { .double(degrees) }
///     static func decode(_ value: BSONValue) -> Celsius? { Double.decode(value).map(Celsius.init) }
///     static var expectedBSONType: String { "double" }
/// }
/// ```
/// > Note: The requirements whose names start with an underscore (`_acceptsStoredType`,
/// > `_keepsIdentity`, `_decodeStored`) are the loading engine's fast-path hooks, not API
/// > (swift-nio's rule: an underscored symbol is not public API). They may change in any
/// > release, and their defaults, which go through ``decode(_:)``, are right for every type of
/// > your own. They are underscored rather than `@_spi` because the field wrappers' `@inlinable`
/// > read path calls them, and inlinable code cannot name SPI; they stay requirements of this
/// > protocol (not of a refined one) so that a conditional conformance of your own needs no
/// > second declaration.
public protocol FieldValue: SendableMetatype {
    /// The value as BSON.
    var bsonValue: BSONValue { get }
    /// Decodes a stored value, or nil when it has the wrong type (or is out of range).
    static func decode(_ value: BSONValue) -> Self?
    /// The expected BSON type, as MongoDB's `$type` spells it, for error messages.
    static var expectedBSONType: String { get }
    /// The embedded document class this type stores, directly or in an optional or container.
    static var embeddedDocumentType: EmbeddedDocument.Type? { get }

    // The engine's hooks: not API (see the note above).

    /// Whether a stored value of BSON type `type` decodes: true or false when the type alone
    /// tells (most scalars), nil when the value must be decoded to know (containers, enums,
    /// ranges). Lets loading check types without decoding values.
    static func _acceptsStoredType(_ type: BSONType) -> Bool?
    /// True when a decoded value must stay the same object on every read, so that changes made
    /// inside it are saved (embedded documents, and containers of them).
    static var _keepsIdentity: Bool { get }
    /// Decodes a loaded document's element in place, or nil when it has the wrong type. The
    /// default goes through ``FieldValue/decode(_:)``; common scalars read their bytes directly,
    /// which keeps field reads cheap.
    static func _decodeStored(_ element: borrowing _StoredElement) -> Self?
}

extension FieldValue {
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { nil }
    public static var _keepsIdentity: Bool { false }
    public static var embeddedDocumentType: EmbeddedDocument.Type? { nil }
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Self? {
        decode(element.value)
    }
}

extension String: FieldValue {
    public var bsonValue: BSONValue { .string(self) }
    public static func decode(_ value: BSONValue) -> String? { value.stringValue }
    public static var expectedBSONType: String { "string" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .string }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> String? {
        element.string
    }
}

extension Int: FieldValue {
    public var bsonValue: BSONValue { .int64(Int64(self)) }
    public static func decode(_ value: BSONValue) -> Int? { value.intValue }
    public static var expectedBSONType: String { "long" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .int32 || type == .int64 }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Int? {
        element.integer.flatMap { Int(exactly: $0) }
    }
}

extension Int32: FieldValue {
    public var bsonValue: BSONValue { .int32(self) }
    public static func decode(_ value: BSONValue) -> Int32? { value.integer.flatMap { Int32(exactly: $0) } }
    public static var expectedBSONType: String { "int" }
    /// An int64 needs decoding: it must fit in 32 bits.
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? {
        type == .int32 ? true : (type == .int64 ? nil : false)
    }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Int32? {
        element.integer.flatMap { Int32(exactly: $0) }
    }
}

extension Int64: FieldValue {
    public var bsonValue: BSONValue { .int64(self) }
    public static func decode(_ value: BSONValue) -> Int64? { value.integer }
    public static var expectedBSONType: String { "long" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .int32 || type == .int64 }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Int64? {
        element.integer
    }
}

extension Double: FieldValue {
    public var bsonValue: BSONValue { .double(self) }
    /// Doubles also accept int32 (exact) values, as MongoDB's shell often writes numbers so.
    public static func decode(_ value: BSONValue) -> Double? {
        switch value {
        case .double(let number): number
        case .int32(let number): Double(number)
        default: nil
        }
    }
    public static var expectedBSONType: String { "double" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .double || type == .int32 }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Double? {
        element.double
    }
}

extension Bool: FieldValue {
    public var bsonValue: BSONValue { .bool(self) }
    public static func decode(_ value: BSONValue) -> Bool? { value.boolValue }
    public static var expectedBSONType: String { "bool" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .bool }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Bool? {
        element.bool
    }
}

extension Date: FieldValue {
    /// Stored as a BSON datetime, truncated to the millisecond.
    public var bsonValue: BSONValue { .datetime(BSONDateTime(self)) }
    public static func decode(_ value: BSONValue) -> Date? { value.dateValue }
    public static var expectedBSONType: String { "date" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .datetime }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Date? {
        element.datetime?.date
    }
}

extension ObjectID: FieldValue {
    public var bsonValue: BSONValue { .objectID(self) }
    public static func decode(_ value: BSONValue) -> ObjectID? { value.objectIDValue }
    public static var expectedBSONType: String { "objectId" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .objectID }
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> ObjectID? {
        element.objectID
    }
}

extension Decimal128: FieldValue {
    public var bsonValue: BSONValue { .decimal128(self) }
    public static func decode(_ value: BSONValue) -> Decimal128? {
        if case .decimal128(let decimal) = value { decimal } else { nil }
    }
    public static var expectedBSONType: String { "decimal" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .decimal128 }
}

extension BSONBinary: FieldValue {
    public var bsonValue: BSONValue { .binary(self) }
    public static func decode(_ value: BSONValue) -> BSONBinary? {
        if case .binary(let binary) = value { binary } else { nil }
    }
    public static var expectedBSONType: String { "binData" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .binary }
}

extension Data: FieldValue {
    /// Stored as generic (subtype 0) binary data.
    public var bsonValue: BSONValue { .binary(BSONBinary(subtype: .generic, data: Array(self))) }
    public static func decode(_ value: BSONValue) -> Data? {
        if case .binary(let binary) = value { Data(binary.data) } else { nil }
    }
    public static var expectedBSONType: String { "binData" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .binary }
}

extension BSONValue: FieldValue {
    /// Free-form BSON: any stored value.
    public var bsonValue: BSONValue { self }
    public static func decode(_ value: BSONValue) -> BSONValue? { value }
    public static var expectedBSONType: String { "any" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { true }
}

extension BSONDocument: FieldValue {
    /// A free-form embedded document.
    public var bsonValue: BSONValue { .document(self) }
    public static func decode(_ value: BSONValue) -> BSONDocument? { value.documentValue }
    public static var expectedBSONType: String { "object" }
}

extension Optional: FieldValue where Wrapped: FieldValue {
    /// nil is stored as BSON null (and a `save` of nil unsets the field).
    public var bsonValue: BSONValue { map(\.bsonValue) ?? .null }
    /// Null decodes to nil; anything else must decode as `Wrapped`.
    public static func decode(_ value: BSONValue) -> Wrapped?? {
        if value.isNull { return .some(nil) }
        return Wrapped.decode(value).map { .some($0) }
    }
    public static var expectedBSONType: String { Wrapped.expectedBSONType + " or null" }
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? {
        type == .null ? true : Wrapped._acceptsStoredType(type)
    }
    public static var _keepsIdentity: Bool { Wrapped._keepsIdentity }
    public static var embeddedDocumentType: EmbeddedDocument.Type? { Wrapped.embeddedDocumentType }
    // Inlinable, so an optional field's read is specialised where it is declared: generic, it
    // looked `Wrapped`'s metadata up at run time on every read.
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Wrapped?? {
        if element.type == .null { return .some(nil) }
        guard let value = Wrapped._decodeStored(element) else { return nil }
        return .some(value)
    }
}

extension Array: FieldValue where Element: FieldValue {
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .array ? nil : false }
    public var bsonValue: BSONValue { .array(map(\.bsonValue)) }
    /// Every element must decode, or the whole array is a type mismatch.
    public static func decode(_ value: BSONValue) -> [Element]? {
        guard let elements = value.arrayValue else { return nil }
        var decoded: [Element] = []
        decoded.reserveCapacity(elements.count)
        for element in elements {
            guard let item = Element.decode(element) else { return nil }
            decoded.append(item)
        }
        return decoded
    }
    /// Decodes the elements in place, into an array allocated once at its final size (through
    /// ``decode(_:)``, the stored array would first be copied into a growing `[BSONValue]`).
    @inlinable
    public static func _decodeStored(_ element: borrowing _StoredElement) -> [Element]? {
        // Reserved, then appended: `init(unsafeUninitializedCapacity:)` allocates through an
        // unspecialised entry point that looks up the storage class's generic metadata in the
        // runtime's table on every call (about 50 ns, half the cost of a three-string array).
        var decoded: [Element] = []
        let complete = element.forEachArrayElement(counted: { decoded.reserveCapacity($0) }) { item in
            guard let value = Element._decodeStored(item) else { return false }
            decoded.append(value)
            return true
        }
        return complete ? decoded : nil
    }
    public static var expectedBSONType: String { "array of \(Element.expectedBSONType)" }
    public static var _keepsIdentity: Bool { Element._keepsIdentity }
    public static var embeddedDocumentType: EmbeddedDocument.Type? { Element.embeddedDocumentType }
}

extension Dictionary: FieldValue where Key == String, Value: FieldValue {
    public static func _acceptsStoredType(_ type: BSONType) -> Bool? { type == .document ? nil : false }
    /// Stored as an embedded document; keys must be valid BSON keys.
    public var bsonValue: BSONValue {
        // Sorted, so the same dictionary always encodes to the same bytes (and diffs cleanly).
        .document(BSONDocument(elements: sorted { $0.key < $1.key }.map { ($0.key, $0.value.bsonValue) }))
    }
    public static func decode(_ value: BSONValue) -> [String: Value]? {
        guard let document = value.documentValue else { return nil }
        var decoded: [String: Value] = [:]
        for (key, element) in document {
            guard let item = Value.decode(element) else { return nil }
            decoded[key] = item
        }
        return decoded
    }
    public static var expectedBSONType: String { "object of \(Value.expectedBSONType)" }
    public static var _keepsIdentity: Bool { Value._keepsIdentity }
    public static var embeddedDocumentType: EmbeddedDocument.Type? { Value.embeddedDocumentType }
}

extension FieldValue where Self: RawRepresentable, RawValue: FieldValue {
    /// Stored as the raw value.
    public var bsonValue: BSONValue { rawValue.bsonValue }
    /// A stored raw value that names no case is a type mismatch.
    public static func decode(_ value: BSONValue) -> Self? { RawValue.decode(value).flatMap(Self.init(rawValue:)) }
    /// Read in place as the raw value, then matched to a case.
    public static func _decodeStored(_ element: borrowing _StoredElement) -> Self? {
        RawValue._decodeStored(element).flatMap(Self.init(rawValue:))
    }
    public static var expectedBSONType: String { "\(RawValue.expectedBSONType) naming a \(Self.self)" }
}

/// Arrays and dictionaries, whose elements the load-time C walk checks by type.
protocol ElementTypedField {
    /// The elements' type, whose `_acceptsStoredType` judges each element.
    static var elementValueType: any FieldValue.Type { get }
}

extension Array: ElementTypedField where Element: FieldValue {
    static var elementValueType: any FieldValue.Type { Element.self }
}

extension Dictionary: ElementTypedField where Key == String, Value: FieldValue {
    static var elementValueType: any FieldValue.Type { Value.self }
}

extension BSONValue {
    /// An int32 or int64 value, widened: what the integer fields accept before their range check.
    fileprivate var integer: Int64? {
        switch self {
        case .int32(let number): Int64(number)
        case .int64(let number): number
        default: nil
        }
    }
}
