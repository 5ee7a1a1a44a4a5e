import TendrilDriver

/// One element of a loaded document, read in place: what ``FieldValue/_decodeStored(_:)``
/// decodes when a field is read. It is lent for the duration of that call and points into the
/// document's stored bytes, so reading a field retains nothing and copies only the value.
///
/// It is `~Copyable` and lent `borrowing`, so it cannot escape the call it is lent to: the
/// callee can neither copy it nor consume it (store it, return it, capture it in an escaping
/// closure); the compiler refuses. Not `~Escapable`: on Swift 6.3 an initializer of a
/// non-escapable type needs `@_lifetime`, which is still an experimental feature.
/// Engine API, not public API (underscored): it may change in any release.
///
/// ```swift
/// struct Celsius: FieldValue {
///     var degrees: Double
///     // ...
///     static func _decodeStored(_ element: borrowing _StoredElement) -> Celsius? {
///         Double._decodeStored(element).map(Celsius.init(degrees:))
///     }
/// }
/// ```
public struct _StoredElement: ~Copyable {
    /// The stored document's bytes (valid and bounds-checked by every reader).
    @usableFromInline let bytes: BSONBytes
    /// Where the element (its type byte) starts in the document.
    @usableFromInline let offset: Int
    /// The length of the element's key.
    @usableFromInline let keyLength: Int

    @inlinable
    init(document: UnsafeRawPointer, offset: Int, keyLength: Int) {
        self.bytes = BSONBytes(document)
        self.offset = offset
        self.keyLength = keyLength
    }

    @usableFromInline
    init(bytes: BSONBytes, offset: Int, keyLength: Int) {
        self.bytes = bytes
        self.offset = offset
        self.keyLength = keyLength
    }

    /// The element's BSON type (`.string`, `.int32`, ...), or nil for a type byte BSON does not define.
    @inlinable
    public var type: BSONType? { bytes.type(atElementOffset: offset) }

    /// The element's value, decoded.
    public var value: BSONValue { bytes.value(atElementOffset: offset, keyLength: keyLength) }

    @inlinable var string: String? { bytes.string(atElementOffset: offset, keyLength: keyLength) }
    @inlinable var integer: Int64? { bytes.integer(atElementOffset: offset, keyLength: keyLength) }
    @inlinable var double: Double? { bytes.double(atElementOffset: offset, keyLength: keyLength) }
    @inlinable var bool: Bool? { bytes.bool(atElementOffset: offset, keyLength: keyLength) }
    @inlinable var datetime: BSONDateTime? { bytes.datetime(atElementOffset: offset, keyLength: keyLength) }
    @inlinable var objectID: ObjectID? { bytes.objectID(atElementOffset: offset, keyLength: keyLength) }

    /// Lends each element of this array to `body`, in order, until `body` returns false, after
    /// telling `counted` how many there are (one walk finds both).
    /// - Returns: false when this is not an array, or `body` stopped the walk.
    @usableFromInline
    func forEachArrayElement(counted: (Int) -> Void, _ body: (borrowing _StoredElement) -> Bool) -> Bool {
        bytes.forEachArrayElement(atElementOffset: offset, keyLength: keyLength, counted: counted) { offset, keyLength in
            body(_StoredElement(bytes: bytes, offset: offset, keyLength: keyLength))
        }
    }
}
