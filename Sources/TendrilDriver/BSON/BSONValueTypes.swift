import Foundation

/// A BSON UTC datetime: milliseconds since the Unix epoch, kept exactly.
///
/// ```swift
/// let now = BSONDateTime(Date())
/// let back: Date = now.date
/// ```
/// > Note: `Date` is a `Double` of seconds, so extreme values lose precision when
/// converted; the stored milliseconds never do.
public struct BSONDateTime: Sendable, Hashable, Comparable {
    /// Milliseconds since 1970-01-01T00:00:00Z (negative before it).
    public let millisecondsSinceEpoch: Int64

    /// Wraps a count of milliseconds since the epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Converts a `Date`, truncating below the millisecond as MongoDB does. Dates beyond what
    /// BSON can represent (including `Date.distantFuture` multiples and infinities) are clamped;
    /// a NaN date (which `Date` can hold) becomes the epoch.
    public init(_ date: Date) {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard !milliseconds.isNaN else {
            self.millisecondsSinceEpoch = 0
            return
        }
        let clamped = min(max(milliseconds, -9.2e18), 9.2e18)
        self.millisecondsSinceEpoch = Int64(clamped)
    }

    /// The same instant as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: TimeInterval(millisecondsSinceEpoch) / 1000)
    }

    /// Earlier instants sort first.
    public static func < (lhs: BSONDateTime, rhs: BSONDateTime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }
}

/// BSON binary data with its subtype.
///
/// ```swift
/// let blob = BSONBinary(subtype: .generic, data: [0xDE, 0xAD])
/// ```
public struct BSONBinary: Sendable, Hashable {
    /// The binary subtype byte.
    public struct Subtype: RawRepresentable, Sendable, Hashable {
        /// The subtype byte.
        public let rawValue: UInt8
        /// Wraps any subtype byte, including user-defined ones (0x80...0xFF).
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Generic binary data (0x00).
        public static let generic = Subtype(rawValue: 0x00)
        /// A function (0x01).
        public static let function = Subtype(rawValue: 0x01)
        /// The deprecated "old binary" subtype (0x02), length-prefixed twice.
        public static let binaryOld = Subtype(rawValue: 0x02)
        /// The legacy UUID subtype (0x03).
        public static let uuidOld = Subtype(rawValue: 0x03)
        /// A UUID (0x04).
        public static let uuid = Subtype(rawValue: 0x04)
        /// An MD5 digest (0x05).
        public static let md5 = Subtype(rawValue: 0x05)
        /// Encrypted BSON (0x06).
        public static let encrypted = Subtype(rawValue: 0x06)
        /// A compressed time-series column (0x07).
        public static let column = Subtype(rawValue: 0x07)
        /// The first user-defined subtype (0x80).
        public static let userDefined = Subtype(rawValue: 0x80)
    }

    /// The subtype.
    public let subtype: Subtype
    /// The payload.
    public let data: [UInt8]

    /// Wraps `data` with its `subtype`.
    public init(subtype: Subtype = .generic, data: [UInt8]) {
        self.subtype = subtype
        self.data = data
    }

    /// A subtype-4 UUID.
    public init(_ uuid: UUID) {
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        self.init(subtype: .uuid, data: bytes)
    }
}

/// A BSON regular expression: a pattern and its option letters.
public struct BSONRegularExpression: Sendable, Hashable {
    /// The pattern, without delimiters.
    public let pattern: String
    /// Option letters such as `i`, `m`, `x`, `s` (libbson stores them sorted).
    public let options: String

    /// Creates a regular expression value.
    public init(pattern: String, options: String = "") {
        self.pattern = pattern
        self.options = options
    }
}

/// A BSON timestamp: MongoDB's internal replication clock (seconds, increment).
public struct BSONTimestamp: Sendable, Hashable, Comparable {
    /// Seconds since the epoch.
    public let timestamp: UInt32
    /// An ordinal within the second.
    public let increment: UInt32

    /// Creates a timestamp value.
    public init(timestamp: UInt32, increment: UInt32) {
        self.timestamp = timestamp
        self.increment = increment
    }

    /// Ordered by seconds, then increment.
    public static func < (lhs: BSONTimestamp, rhs: BSONTimestamp) -> Bool {
        (lhs.timestamp, lhs.increment) < (rhs.timestamp, rhs.increment)
    }
}

/// The deprecated BSON DBPointer: a namespace and an ObjectId.
public struct BSONDBPointer: Sendable, Hashable {
    /// The `database.collection` namespace.
    public let namespace: String
    /// The referenced id.
    public let id: ObjectID

    /// Creates a DBPointer value.
    public init(namespace: String, id: ObjectID) {
        self.namespace = namespace
        self.id = id
    }
}

/// JavaScript code with a scope document (deprecated in MongoDB, kept for round-trips).
public struct BSONCodeWithScope: Sendable, Hashable {
    /// The code.
    public let code: String
    /// The variables in scope.
    public let scope: BSONDocument

    /// Creates a code-with-scope value.
    public init(code: String, scope: BSONDocument) {
        self.code = code
        self.scope = scope
    }
}
