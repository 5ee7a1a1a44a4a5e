/// Builds a ``BSONDocument`` from one `(key, value)` pair per line, with `if` and `for`:
/// the form that stays fast to type-check when values are computed from a closure's parameter.
///
/// A dictionary literal (or ``BSONDocument/init(elements:)``) is one expression: when its
/// values do arithmetic on a parameter whose type is still being inferred, as in a `map`
/// closure, the compiler weighs every combination of overloads across all the values at once,
/// and at ten or so keys it gives up ("unable to type-check this expression in reasonable
/// time"). Each line of a builder is checked on its own.
/// ```swift
/// let people = (0..<1_000).map { index in
///     BSONDocument {
///         ("name", .string("person \(index)"))
///         ("age", .int64(Int64(20 + index % 50)))
///         if index.isMultiple(of: 10) { ("vip", .bool(true)) }
///         for (slot, day) in days.enumerated() { ("day\(slot)", .string(day)) }
///     }
/// }
/// ```
@resultBuilder
public enum BSONDocumentBuilder {
    /// One element: a key and its value.
    public static func buildExpression(_ element: (String, BSONValue)) -> [(String, BSONValue)] {
        [element]
    }

    /// The elements of the lines, in order.
    public static func buildBlock(_ lines: [(String, BSONValue)]...) -> [(String, BSONValue)] {
        lines.flatMap { $0 }
    }

    /// The elements of an `if` without `else`, or none.
    public static func buildOptional(_ elements: [(String, BSONValue)]?) -> [(String, BSONValue)] {
        elements ?? []
    }

    /// The elements of an `if`'s first branch.
    public static func buildEither(first elements: [(String, BSONValue)]) -> [(String, BSONValue)] {
        elements
    }

    /// The elements of an `if`'s second branch.
    public static func buildEither(second elements: [(String, BSONValue)]) -> [(String, BSONValue)] {
        elements
    }

    /// The elements of every pass of a `for` loop, in order.
    public static func buildArray(_ passes: [[(String, BSONValue)]]) -> [(String, BSONValue)] {
        passes.flatMap { $0 }
    }
}

extension BSONDocument {
    /// A document of the elements `build` lists, in order (see ``BSONDocumentBuilder``).
    ///
    /// ```swift
    /// let person = BSONDocument {
    ///     ("name", .string(name))
    ///     ("age", .int64(Int64(age)))
    ///     if let email { ("email", .string(email)) }
    /// }
    /// ```
    /// - Throws: only what `build` throws.
    /// > Note: Like a literal, it records a key BSON cannot encode (one holding a NUL byte) in
    /// ``encodingError`` instead of throwing; the driver throws it when the document is sent.
    public init(@BSONDocumentBuilder _ build: () throws -> [(String, BSONValue)]) rethrows {
        self.init(elements: try build())
    }
}
