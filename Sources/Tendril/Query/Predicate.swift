import TendrilDriver

/// A condition on the documents of `Model`, built from `\.$field` key paths.
///
/// ```swift
/// Person.objects.filter(\.$age >= 18 && \.$name != "Bob")
/// Person.objects.filter(.in(\.$name, ["Ada", "Alan"]) || .exists(\.$email, false))
/// Person.objects.filter(.contains(\.$tags, "math"))
/// ```
/// Values are always values: each comparison is written with an explicit operator
/// (`{"name": {"$eq": value}}`), so a user value such as `["$ne": nil]` matches literally and is
/// never read as an operator.
public struct Predicate<Model: Document>: Sendable {
    /// The filter document.
    public let document: BSONDocument
    /// A key path that names no field of `Model` (`\.address.$city`); the query then throws
    /// `DocumentError.notAField` when it runs, rather than filter on another field.
    let problem: String?

    /// Wraps a raw filter document (the escape hatch; its operators are yours).
    public init(raw document: BSONDocument) {
        self.init(document, problem: nil)
    }

    init(_ document: BSONDocument, problem: String?) {
        self.document = document
        self.problem = problem
    }

    static func field<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ condition: BSONDocument) -> Predicate {
        guard let key = Model.fieldKey(keyPath) else {
            return Predicate([:], problem: Model.describe(keyPath))
        }
        return Predicate(raw: BSONDocument(elements: [(key, .document(condition))]))
    }

    static func comparison<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ op: String, _ value: BSONValue) -> Predicate {
        field(keyPath, BSONDocument(elements: [(op, value)]))
    }

    /// The field's value is one of `values`.
    public static func `in`<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ values: [V]) -> Predicate {
        comparison(keyPath, "$in", .array(values.map(\.bsonValue)))
    }

    /// The field's value is none of `values`.
    public static func notIn<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ values: [V]) -> Predicate {
        comparison(keyPath, "$nin", .array(values.map(\.bsonValue)))
    }

    /// The field is present (`true`) or absent (`false`) in the stored document.
    public static func exists<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ present: Bool = true) -> Predicate {
        comparison(keyPath, "$exists", .bool(present))
    }

    /// The string field matches the regular expression `pattern` (options such as `"i"`).
    public static func matches(_ keyPath: KeyPath<Model, Field<String>>, _ pattern: String, options: String = "") -> Predicate {
        field(keyPath, regexCondition(pattern, options))
    }

    /// The optional string field matches the regular expression `pattern`.
    public static func matches(_ keyPath: KeyPath<Model, Field<String?>>, _ pattern: String, options: String = "") -> Predicate {
        field(keyPath, regexCondition(pattern, options))
    }

    private static func regexCondition(_ pattern: String, _ options: String) -> BSONDocument {
        options.isEmpty ? ["$regex": .string(pattern)] : ["$regex": .string(pattern), "$options": .string(options)]
    }

    /// The array field holds `element`.
    public static func contains<E: FieldValue>(_ keyPath: KeyPath<Model, Field<[E]>>, _ element: E) -> Predicate {
        comparison(keyPath, "$elemMatch", .document(["$eq": element.bsonValue]))
    }

    /// The array field holds every one of `elements`.
    public static func containsAll<E: FieldValue>(_ keyPath: KeyPath<Model, Field<[E]>>, _ elements: [E]) -> Predicate {
        comparison(keyPath, "$all", .array(elements.map(\.bsonValue)))
    }

    /// The array field has exactly `count` elements.
    public static func size<E: FieldValue>(_ keyPath: KeyPath<Model, Field<[E]>>, _ count: Int) -> Predicate {
        comparison(keyPath, "$size", .int64(Int64(count)))
    }

    /// Every one of `predicates` holds (no predicates: every document).
    public static func all(_ predicates: [Predicate]) -> Predicate {
        guard !predicates.isEmpty else { return Predicate(raw: [:]) }
        return Predicate(["$and": .array(predicates.map { .document($0.document) })], problem: predicates.lazy.compactMap(\.problem).first)
    }

    /// At least one of `predicates` holds (no predicates: no document).
    public static func any(_ predicates: [Predicate]) -> Predicate {
        guard !predicates.isEmpty else { return Predicate(raw: ["_id": ["$exists": false]]) }
        return Predicate(["$or": .array(predicates.map { .document($0.document) })], problem: predicates.lazy.compactMap(\.problem).first)
    }

    /// Both hold.
    public static func && (lhs: Predicate, rhs: Predicate) -> Predicate { all([lhs, rhs]) }
    /// Either holds.
    public static func || (lhs: Predicate, rhs: Predicate) -> Predicate { any([lhs, rhs]) }
    /// The predicate does not hold (MongoDB's `$nor` of one condition).
    public static prefix func ! (predicate: Predicate) -> Predicate {
        Predicate(["$nor": [.document(predicate.document)]], problem: predicate.problem)
    }
}

/// The field equals `value` (for an optional field, `nil` also matches an absent field).
public func == <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$eq", rhs.bsonValue)
}

/// The field does not equal `value`.
public func != <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$ne", rhs.bsonValue)
}

/// The field is greater than `value` (in MongoDB's BSON order).
public func > <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$gt", rhs.bsonValue)
}

/// The field is greater than or equal to `value`.
public func >= <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$gte", rhs.bsonValue)
}

/// The field is less than `value`.
public func < <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$lt", rhs.bsonValue)
}

/// The field is less than or equal to `value`.
public func <= <Model: Document, V: FieldValue>(lhs: KeyPath<Model, Field<V>>, rhs: V) -> Predicate<Model> {
    .comparison(lhs, "$lte", rhs.bsonValue)
}

extension Document {
    /// The stored key of the field `keyPath` (`\.$name`) names, or nil when it names no field of
    /// this class (`\.address.$city` leads through another property).
    static func fieldKey(_ keyPath: AnyKeyPath) -> String? {
        Schema.of(self).field(forProjected: keyPath)?.key
    }

    static func describe(_ keyPath: AnyKeyPath) -> String {
        "\(keyPath) names no field of \(self)"
    }
}
