internal import CTendrilMongoC
import Foundation

/// A MongoDB ObjectId: 12 bytes, unique per process, ordered roughly by creation time.
///
/// ```swift
/// let id = ObjectID()                                   // a fresh one
/// let parsed = try ObjectID("507f1f77bcf86cd799439011") // from its hex form
/// print(parsed.timestamp)
/// ```
/// > Note: `ObjectID()` is thread-safe: libbson's default context uses an atomic counter.
public struct ObjectID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 12 bytes, big-endian, as stored in BSON.
    public let bytes: [UInt8]

    /// Generates a new ObjectId (timestamp, per-process random value, counter).
    public init() {
        var oid = bson_oid_t()
        bson_oid_init(&oid, nil)
        self.init(oid)
    }

    /// Parses the 24-hex-digit form, as printed by MongoDB tools.
    /// - Throws: ``BSONError`` `.invalidObjectID` when `hex` is not 24 hexadecimal digits.
    public init(_ hex: String) throws {
        let valid = hex.utf8.count == 24 && hex.withCString { bson_oid_is_valid($0, 24) }
        guard valid else {
            throw BSONError(.invalidObjectID, "'\(hex)' is not 24 hexadecimal digits")
        }
        var oid = bson_oid_t()
        hex.withCString { bson_oid_init_from_string(&oid, $0) }
        self.init(oid)
    }


    /// Wraps 12 raw bytes.
    /// - Throws: ``BSONError`` `.invalidObjectID` unless there are exactly 12 bytes.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count == 12 else {
            throw BSONError(.invalidObjectID, "an ObjectId has 12 bytes, not \(bytes.count)")
        }
        self.bytes = Array(bytes)
    }

    init(_ oid: bson_oid_t) {
        self.bytes = withUnsafeBytes(of: oid.bytes) { Array($0) }
    }

    func withOID<R>(_ body: (UnsafePointer<bson_oid_t>) throws -> R) rethrows -> R {
        var oid = bson_oid_t()
        withUnsafeMutableBytes(of: &oid.bytes) { $0.copyBytes(from: bytes) }
        return try body(&oid)
    }

    /// The lowercase 24-hex-digit form.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(24)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The creation time recorded in the first four bytes (second precision).
    public var timestamp: Date {
        let seconds = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// The hex form, as ``hex``.
    public var description: String { hex }

    /// Byte order: roughly creation order.
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
