import Foundation
import TendrilDriver

/// Dates in JSON: ISO 8601 in UTC with milliseconds (`2026-12-03T18:32:39.123Z`), the precision
/// BSON stores; read with or without the fraction and with any offset.
enum ISO8601 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    /// Whole seconds formatted, then the milliseconds written from the stored integer: a
    /// formatter working from the `Date`'s floating-point seconds can print .122 for .123.
    static func string(from dateTime: BSONDateTime) -> String {
        let milliseconds = dateTime.millisecondsSinceEpoch
        let (seconds, fraction) = (milliseconds.dividingFloor(by: 1000), milliseconds - milliseconds.dividingFloor(by: 1000) * 1000)
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(withoutFraction)
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The date `text` names, or nil when it is not ISO 8601.
    static func date(from text: String) -> Date? {
        // ISO 8601 needs a 'T' and at least "YYYY-MM-DDTHH:MM:SS": cheap to refuse other strings.
        guard text.count >= 19, text.contains("T") else { return nil }
        do {
            return try withFraction.parse(text)
        } catch {
            do {
                return try withoutFraction.parse(text)
            } catch {
                return nil   // not a date: the caller tries the field's other readings, then reports the field
            }
        }
    }
}

extension Int64 {
    /// The quotient rounded down (Swift's `/` rounds toward zero, wrong for dates before 1970).
    fileprivate func dividingFloor(by divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
