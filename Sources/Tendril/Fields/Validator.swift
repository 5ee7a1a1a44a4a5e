import Foundation

/// A rule a field's value must follow when the document is saved.
///
/// ```swift
/// final class Member: Document {
///     @Field(validate: .range(0...150)) var age: Int = 0
///     @Field(validate: .matches("^[^@ ]+@[^@ ]+$")) var email: String?
///     @Field(validate: .oneOf(["red", "green", "blue"])) var color: String = "red"
///     @Field(validate: .custom("even") { $0 % 2 == 0 }) var seats: Int = 2
/// }
/// ```
/// On an optional field a rule applies to non-nil values (use `.required` to forbid nil).
/// A failed rule makes `insert`/`save` throw ``DocumentError`` `.validationFailed`, naming the
/// field and the rule, before anything is sent.
public struct Validator<Value>: Sendable {
    /// Describes the rule in errors ("range 0...150").
    public let name: String
    let isValid: @Sendable (Value) -> Bool

    /// A rule named `name` that holds when `isValid` returns true.
    public static func custom(_ name: String, _ isValid: @escaping @Sendable (Value) -> Bool) -> Validator {
        Validator(name: name, isValid: isValid)
    }
}

extension Validator where Value: Comparable & Sendable {
    /// The value lies in `range`.
    public static func range(_ range: ClosedRange<Value>) -> Validator {
        .custom("range \(range.lowerBound)...\(range.upperBound)") { range.contains($0) }
    }

    /// The value is at least `minimum`.
    public static func minimum(_ minimum: Value) -> Validator {
        .custom("minimum \(minimum)") { $0 >= minimum }
    }

    /// The value is at most `maximum`.
    public static func maximum(_ maximum: Value) -> Validator {
        .custom("maximum \(maximum)") { $0 <= maximum }
    }
}

extension Validator where Value: Hashable & Sendable {
    /// The value is one of `choices`.
    public static func oneOf(_ choices: Set<Value>) -> Validator {
        .custom("one of \(choices.map { "\($0)" }.sorted().joined(separator: ", "))") { choices.contains($0) }
    }
}

extension Validator where Value == String {
    /// The string contains a match of the regular expression `pattern` (anchor it with `^…$`
    /// to match the whole string). An invalid pattern fails every value.
    public static func matches(_ pattern: String) -> Validator {
        .custom("matches \(pattern)") { value in
            // The pattern is the class's declaration, not data: an invalid one fails every value
            // (documented above), so saves report `.validationFailed` naming it.
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
            return regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
        }
    }

    /// The string has between `range.lowerBound` and `range.upperBound` characters.
    public static func length(_ range: ClosedRange<Int>) -> Validator {
        .custom("length \(range.lowerBound)...\(range.upperBound)") { range.contains($0.count) }
    }
}
