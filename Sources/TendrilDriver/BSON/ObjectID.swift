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
    // The 12 bytes kept inline (no heap allocation): the first 8 and the last 4, big-endian.
    private let high: UInt64
    private let low: UInt32

    /// The 12 bytes, big-endian, as stored in BSON.
    public var bytes: [UInt8] {
        // Copied from the big-endian pair in one step: `init(unsafeUninitializedCapacity:)`
        // allocates through an unspecialised entry point that looks up `[UInt8]`'s storage class
        // in the runtime's metadata table on every call, which doubled this getter's cost.
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0[..<12]) }
    }

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
        var high: UInt64 = 0
        var low: UInt32 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt32(byte) }
        }
        self.high = high
        self.low = low
    }

    /// Reads 12 bytes from validated memory.
    @usableFromInline
    init(unsafeBytes raw: UnsafeRawBufferPointer, at offset: Int) {
        high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        low = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
    }

    init(_ oid: bson_oid_t) {
        self = withUnsafeBytes(of: oid.bytes) { ObjectID(unsafeBytes: $0, at: 0) }
    }

    func withOID<R>(_ body: (UnsafePointer<bson_oid_t>) throws -> R) rethrows -> R {
        var oid = bson_oid_t()
        withUnsafeMutableBytes(of: &oid.bytes) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt32.self)
        }
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
        Date(timeIntervalSince1970: TimeInterval(UInt32(truncatingIfNeeded: high >> 32)))
    }

    /// The hex form, as ``hex``.
    public var description: String { hex }

    /// Byte order: roughly creation order.
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
