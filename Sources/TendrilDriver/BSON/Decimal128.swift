internal import CTendrilMongoC

/// A BSON Decimal128 (IEEE 754-2008 128-bit decimal), carried exactly.
///
/// Tendril does no arithmetic on it: it round-trips the value and converts it to
/// and from its string form.
/// ```swift
/// let price = try Decimal128("19.99")
/// print(price)          // "19.99"
/// ```
public struct Decimal128: Sendable, Hashable, CustomStringConvertible {
    /// The low 64 bits of the encoding.
    public let low: UInt64
    /// The high 64 bits of the encoding (sign, combination field, exponent).
    public let high: UInt64

    /// Wraps the two halves of an encoded value.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the decimal string form (`"1.5E+3"`, `"-0"`, `"NaN"`, `"Infinity"`).
    /// - Throws: ``BSONError`` `.invalidDecimal128` when the text is not a Decimal128.
    public init(_ text: String) throws {
        var value = bson_decimal128_t()
        var utf8 = text
        // libbson stops at a NUL even with an explicit length, so refuse it here.
        let parsed = !utf8.utf8.contains(0) && utf8.utf8.count < 6_000 && utf8.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                bson_decimal128_from_string_w_len($0.baseAddress, Int32($0.count), &value)
            }
        }
        guard parsed else {
            throw BSONError(.invalidDecimal128, "'\(text)' is not a Decimal128")
        }
        self.init(value)
    }


    init(_ value: bson_decimal128_t) {
        self.init(high: value.high, low: value.low)
    }

    var cValue: bson_decimal128_t {
        var value = bson_decimal128_t()
        value.high = high
        value.low = low
        return value
    }

    /// The decimal string form, as MongoDB prints it.
    public var description: String {
        var value = cValue
        var buffer = [CChar](repeating: 0, count: Int(BSON_DECIMAL128_STRING))
        bson_decimal128_to_string(&value, &buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
