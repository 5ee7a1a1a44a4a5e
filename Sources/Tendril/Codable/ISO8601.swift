import Foundation
import TendrilDriver

/// Dates in JSON: ISO 8601 in UTC with milliseconds (`2026-12-03T18:32:39.123Z`), the precision
/// BSON stores; read with or without the fraction and with any offset.
enum ISO8601 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    static func string(from dateTime: BSONDateTime) -> String {
        dateTime.date.formatted(withFraction)
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
