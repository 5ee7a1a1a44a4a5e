import TendrilDriver

/// Options of a ``Field``.
public struct FieldOptions: OptionSet, Sendable {
    public let rawValue: Int
    /// Wraps option bits.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The field must hold a non-nil value when saved and when loaded.
    public static let required = FieldOptions(rawValue: 1 << 0)
    /// The document's version, for optimistic concurrency (an `Int` field, at most one per
    /// class): each save of changes sends them only if the stored version is still the one
    /// this document loaded, and increments it; otherwise `DocumentError.versionConflict`.
    ///
    /// ```swift
    /// @Field(.version) var version: Int = 0
    /// ```
    public static let version = FieldOptions(rawValue: 1 << 1)
}

/// A stored field of a ``Document`` (or ``EmbeddedDocument``).
///
/// ```swift
/// final class Person: Document {
///     @Field var name: String = ""             // stored as "name"
///     @Field("yob") var yearOfBirth: Int = 0    // stored as "yob"
///     @Field var nickname: String?              // optional: absent or null reads as nil
///     @Field(.required) var email: String?      // must be set before it is saved
/// }
/// ```
/// A non-optional field needs a default value: it is what a new document holds until set, and
/// what a stored document that lacks the field reads as (fields added to a class later). It is
/// evaluated for every instance, so `@Field var createdAt = Date()` gives each new document its
/// own, and that is what its insert stores, read or not.
/// An optional field may be `.required`: saving it as nil is then an error, as is loading a
/// stored document without it.
/// > Note: Use `$field` (the projected value) in queries: `Person.objects.filter(\.$age > 30)`.
@propertyWrapper
public struct Field<Value: FieldValue> {
    /// Options of a field.
    public typealias Options = FieldOptions

    // Every instance stores its wrappers, so a wrapper holds only what differs per instance (the
    // default); the rest of the declaration sits in `traits`, nil for a plain `@Field var name = ""`.
    /// The declared default value (nil for an optional field declared without one).
    @usableFromInline let defaultValue: Value
    /// A custom key, options and rules, when the declaration has any.
    @usableFromInline var traits: FieldTraits<Value>?

    /// The stored key when it differs from the property name.
    public var customKey: String? { traits?.customKey }
    /// The field's options.
    public var options: Options { traits?.options ?? [] }

    /// A field with a default value: `@Field var age: Int = 0`.
    // Inlinable so that it is specialised in the declaring module: created once per field of
    // every loaded document, it must not look up generic metadata at run time.
    @inlinable
    public init(wrappedValue: Value, _ key: String? = nil, _ options: Options = []) {
        self.init(key: key, defaultValue: wrappedValue, options: options, violation: nil)
    }

    /// A field with a default value and options: `@Field(.version) var version: Int = 0`.
    @inlinable
    public init(wrappedValue: Value, _ options: Options) {
        self.init(key: nil, defaultValue: wrappedValue, options: options, violation: nil)
    }

    /// A field with a default value and rules: `@Field(validate: .range(0...150)) var age = 0`.
    public init(wrappedValue: Value, _ key: String? = nil, _ options: Options = [],
                validate rule: Validator<Value>, _ moreRules: Validator<Value>...) {
        let rules = [rule] + moreRules
        self.init(key: key, defaultValue: wrappedValue, options: options) { value in
            rules.first { !$0.isValid(value) }?.name
        }
    }

    /// An optional field without a default (it starts as nil): `@Field var nickname: String?`.
    @inlinable
    public init<Wrapped>(_ key: String? = nil, _ options: Options = []) where Value == Wrapped? {
        self.init(key: key, defaultValue: nil, options: options, violation: nil)
    }

    /// An optional field with options only: `@Field(.required) var email: String?`.
    @inlinable
    public init<Wrapped>(_ options: Options) where Value == Wrapped? {
        self.init(key: nil, defaultValue: nil, options: options, violation: nil)
    }

    /// An optional field with rules, which apply to non-nil values:
    /// `@Field(.required, validate: .length(2...20)) var handle: String?`.
    public init<Wrapped>(_ key: String? = nil, _ options: Options = [],
                         validate rule: Validator<Wrapped>, _ moreRules: Validator<Wrapped>...) where Value == Wrapped? {
        let rules = [rule] + moreRules
        self.init(key: key, defaultValue: nil, options: options) { value in
            value.flatMap { wrapped in rules.first { !$0.isValid(wrapped) }?.name }
        }
    }

    /// An optional field with options and rules: `@Field(.required, validate: .length(2...20))`.
    public init<Wrapped>(_ options: Options, validate rule: Validator<Wrapped>, _ moreRules: Validator<Wrapped>...) where Value == Wrapped? {
        let rules = [rule] + moreRules
        self.init(key: nil, defaultValue: nil, options: options) { value in
            value.flatMap { wrapped in rules.first { !$0.isValid(wrapped) }?.name }
        }
    }

    @inlinable
    init(key: String?, defaultValue: Value, options: Options, violation: (@Sendable (Value) -> String?)?) {
        self.defaultValue = defaultValue
        self.traits = key == nil && options.isEmpty && violation == nil
            ? nil : FieldTraits(customKey: key, options: options, violation: violation)
    }

    @available(*, unavailable, message: "@Field is only available on properties of Document or EmbeddedDocument subclasses") public var wrappedValue: Value { get { fatalError("unavailable") } set { fatalError("unavailable") } }

    @available(*, unavailable, message: "@Field is only available on properties of Document or EmbeddedDocument subclasses")
    public var projectedValue: Field<Value> { fatalError("unavailable") }

    /// The field itself, for queries: `\.$age`. (Read on a schema's prototype, it records which
    /// field a key path names.)
    @inlinable
    public static subscript<Owner: FieldContainer>(
        _enclosingInstance owner: Owner,
        projected projectedKeyPath: KeyPath<Owner, Field<Value>>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, Field<Value>>
    ) -> Field<Value> {
        if let trace = owner.readTrace { trace.projectedSlots.append(owner.schema.slot(for: storageKeyPath, in: owner)) }
        return owner[keyPath: storageKeyPath]
    }

    // Inlinable, like the initialisers, so each field access is specialised in the declaring
    // module instead of looking up generic metadata at run time.
    @inlinable
    public static subscript<Owner: FieldContainer>(
        _enclosingInstance owner: Owner,
        wrapped wrappedKeyPath: ReferenceWritableKeyPath<Owner, Value>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, Field<Value>>
    ) -> Value {
        get {
            // The schema is lent, not retained: reads are the hottest path there is.
            owner.withSchema { schema in
                let slot = schema.slot(for: storageKeyPath, in: owner)
                if let trace = owner.readTrace(schema: schema) { trace.slots.append(slot) }
                // Plain values are read without writing anything (see FieldStorage.peek).
                if !Value._keepsIdentity {
                    return owner.peekField(slot, schema: schema, default: owner[keyPath: storageKeyPath].defaultValue)
                }
                return owner.readField(slot, schema: schema, default: owner[keyPath: storageKeyPath].defaultValue)
            }
        }
        set {
            let slot = owner.schema.slot(for: storageKeyPath, in: owner)
            owner.changeFields { $0.write(newValue, to: slot) }
        }
        // Without _modify, `doc.tags.append(x)` would copy the array on every call.
        _modify {
            let slot = owner.schema.slot(for: storageKeyPath, in: owner)
            var value: Value = owner.readField(slot, schema: owner.schema, default: owner[keyPath: storageKeyPath].defaultValue)
            yield &value
            owner.changeFields { $0.write(value, to: slot) }
        }
    }
}

/// The parts of a field declaration beyond its default: shared by reference from each
/// instance's wrapper, and absent for plain fields.
@usableFromInline
final class FieldTraits<Value>: Sendable {
    let customKey: String?
    let options: FieldOptions
    /// The failing rule's name for a value, or nil when every rule holds.
    let violation: (@Sendable (Value) -> String?)?

    @usableFromInline
    init(customKey: String?, options: FieldOptions, violation: (@Sendable (Value) -> String?)?) {
        self.customKey = customKey
        self.options = options
        self.violation = violation
    }
}

/// What the schema needs of any `Field<Value>`, without knowing `Value`.
protocol AnyField {
    /// An object only this wrapper holds while it is marked (see ``marked()``), else nil or shared.
    var identity: AnyObject? { get }
    /// A copy holding a fresh identity object, so the schema can tell which of an instance's
    /// wrappers a key path leads to by writing the copy through it.
    func marked() -> Self
    var customKey: String? { get }
    var isRequired: Bool { get }
    /// Declared `.version` (see ``FieldOptions/version``).
    var isVersion: Bool { get }
    var valueType: any FieldValue.Type { get }
    /// The declared default, encoded (null for an optional field without one).
    var encodedDefault: BSONValue { get }
    /// The name of the rule `value` breaks, if any (a value of another type breaks none).
    func violation(of value: Any) -> String?
}

extension Field: AnyField {
    var identity: AnyObject? { traits }
    func marked() -> Field {
        var copy = self
        copy.traits = FieldTraits(customKey: traits?.customKey, options: traits?.options ?? [], violation: traits?.violation)
        return copy
    }
    var isRequired: Bool { options.contains(.required) }
    var isVersion: Bool { options.contains(.version) }
    var valueType: any FieldValue.Type { Value.self }
    var encodedDefault: BSONValue { defaultValue.bsonValue }
    func violation(of value: Any) -> String? {
        guard let violation = traits?.violation, let value = value as? Value else { return nil }
        return violation(value)
    }
}
