import Foundation
import TendrilDriver

/// Why a JSON value could not become a field's value: what is wrong, at which JSON path
/// (property names: `address.city`, `friends[2]`).
struct JSONFieldFailure: Error {
    let kind: DocumentError.Kind
    let path: String

    static func mismatch(_ type: any FieldValue.Type, _ json: JSONValue, at path: String) -> JSONFieldFailure {
        JSONFieldFailure(kind: .typeMismatch(expected: type.expectedBSONType, found: json.description), path: path)
    }
}

/// Converts field values between BSON and JSON, guided by the field's declared type: ids become
/// hex strings, dates ISO 8601 strings, embedded documents objects keyed by property name, and
/// back, each checked as loading checks a stored value.
enum FieldJSON {
    // MARK: BSON to JSON

    /// `value`, a value of a field of type `type`, as JSON.
    static func json(_ value: BSONValue, as type: any FieldValue.Type) -> JSONValue {
        switch FieldValueShape(type) {
        case .optional(let wrapped):
            return value.isNull ? .null : json(value, as: wrapped)
        case .array(let element):
            guard let items = value.arrayValue else { return generic(value) }
            return .array(items.map { json($0, as: element) })
        case .dictionary(let element):
            guard let document = value.documentValue else { return generic(value) }
            return .object(document.map { (key: $0.key, value: json($0.value, as: element)) })
        case .embedded(let embedded):
            guard let document = value.documentValue else { return generic(value) }
            return .object(members(of: document, schema: Schema.of(embedded)))
        case .scalar:
            return generic(value)
        }
    }

    /// A stored embedded document's declared fields, by property name (absent ones at their
    /// declared default, as loading reads them).
    static func members(of document: BSONDocument, schema: Schema) -> [(key: String, value: JSONValue)] {
        schema.fields.map { field in
            (key: field.name, value: json(document[field.key] ?? field.encodedDefault, as: field.valueType))
        }
    }

    /// Any BSON value as JSON, by its own type.
    static func generic(_ value: BSONValue) -> JSONValue {
        switch value {
        case .null, .undefined: .null
        case .bool(let flag): .bool(flag)
        case .int32(let number): .integer(Int64(number))
        case .int64(let number): .integer(number)
        case .double(let number): .double(number)
        case .string(let text), .symbol(let text), .javascript(let text): .string(text)
        case .objectID(let id): .string(id.hex)
        case .datetime(let dateTime): .string(ISO8601.string(from: dateTime))
        case .decimal128(let decimal): .string(decimal.description)
        case .binary(let binary): .string(Data(binary.data).base64EncodedString())
        case .array(let items): .array(items.map(generic))
        case .document(let document): .object(document.map { (key: $0.key, value: generic($0.value)) })
        // The rare types keep their parts, as extended JSON names them.
        case .regex(let regex): .object([(key: "pattern", value: .string(regex.pattern)), (key: "options", value: .string(regex.options))])
        case .timestamp(let stamp): .object([(key: "t", value: .integer(Int64(stamp.timestamp))), (key: "i", value: .integer(Int64(stamp.increment)))])
        case .dbPointer(let pointer): .object([(key: "$ref", value: .string(pointer.namespace)), (key: "$id", value: .string(pointer.id.hex))])
        case .javascriptWithScope(let code): .object([(key: "$code", value: .string(code.code)), (key: "$scope", value: generic(.document(code.scope)))])
        case .minKey: .object([(key: "$minKey", value: .integer(1))])
        case .maxKey: .object([(key: "$maxKey", value: .integer(1))])
        }
    }

    // MARK: JSON to BSON

    /// `json` as the BSON value a field of type `type` stores, or a failure naming `path`.
    static func bson(_ json: JSONValue, as type: any FieldValue.Type, path: String) throws -> BSONValue {
        switch FieldValueShape(type) {
        case .optional(let wrapped):
            if case .null = json { return .null }
            return try bson(json, as: wrapped, path: path)
        case .array(let element):
            guard case .array(let items) = json else { throw JSONFieldFailure.mismatch(type, json, at: path) }
            var values: [BSONValue] = []
            values.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                values.append(try bson(item, as: element, path: "\(path)[\(index)]"))
            }
            return .array(values)
        case .dictionary(let element):
            guard case .object(let members) = json else { throw JSONFieldFailure.mismatch(type, json, at: path) }
            var elements: [(String, BSONValue)] = []
            for (key, item) in members {
                elements.append((key, try bson(item, as: element, path: StoredKeys.describe(key, in: path))))
            }
            return .document(BSONDocument(elements: elements))
        case .embedded(let embedded):
            guard case .object(let members) = json else { throw JSONFieldFailure.mismatch(type, json, at: path) }
            return .document(try embeddedDocument(members, schema: Schema.of(embedded), path: path))
        case .scalar:
            guard let value = scalar(json, as: type) else { throw JSONFieldFailure.mismatch(type, json, at: path) }
            return value
        }
    }

    /// An embedded document's stored form from its JSON members, each field checked.
    static func embeddedDocument(_ members: [(key: String, value: JSONValue)], schema: Schema, path: String) throws -> BSONDocument {
        let byName = Dictionary(members, uniquingKeysWith: { first, _ in first })
        var document = BSONDocument()
        for field in schema.fields {
            let fieldPath = "\(path).\(field.name)"
            guard let member = byName[field.name] else {
                if field.isRequired { throw JSONFieldFailure(kind: .missingRequiredField, path: fieldPath) }
                continue
            }
            let (value, _) = try checkedValue(member, field: field, path: fieldPath)
            if value.isNull { continue }   // nil is absent, as saving stores it
            do {
                try document.append(field.key, value)
            } catch let error as BSONError {
                throw JSONFieldFailure(kind: .invalidBSON(error), path: fieldPath)
            }
        }
        return document
    }

    /// `json` as field `field`'s value, BSON and typed, checked as saving checks it: type,
    /// presence of a `.required` field, storable keys, and the field's validation rule.
    static func checkedValue(_ json: JSONValue, field: FieldInfo, path: String) throws -> (BSONValue, any FieldValue) {
        let value = try bson(json, as: field.valueType, path: path)
        if field.isRequired && value.isNull { throw JSONFieldFailure(kind: .missingRequiredField, path: path) }
        if let key = StoredKeys.firstInvalidKey(in: value) {
            throw JSONFieldFailure(kind: .invalidFieldKey, path: StoredKeys.describe(key, in: path))
        }
        guard let typed = field.valueType.decode(value) else { throw JSONFieldFailure.mismatch(field.valueType, json, at: path) }
        if let rule = field.declaration.violation(of: typed) {
            throw JSONFieldFailure(kind: .validationFailed(rule: rule), path: path)
        }
        // Stored as the typed value encodes, so an embedded document stores what a saved one
        // would (a JSON 0 read as int32 for a Double field is stored as a double).
        return (typed.bsonValue, typed)
    }

    /// The first reading of a JSON scalar that `type` decodes: a string may be a string, an id
    /// (24 hex digits), a date (ISO 8601), a decimal or base64 binary data; a number an int64,
    /// an int32 or a double. Nil when none is.
    static func scalar(_ json: JSONValue, as type: any FieldValue.Type) -> BSONValue? {
        func accepted(_ candidate: BSONValue) -> BSONValue? { type.decode(candidate) == nil ? nil : candidate }
        switch json {
        case .null:
            return accepted(.null)
        case .bool(let flag):
            return accepted(.bool(flag))
        case .integer(let number):
            return accepted(.int64(number)) ?? Int32(exactly: number).flatMap { accepted(.int32($0)) }
                ?? Double(exactly: number).flatMap { accepted(.double($0)) }
        case .double(let number):
            return accepted(.double(number)) ?? Int64(exactly: number).flatMap { accepted(.int64($0)) }
        case .string(let text):
            return accepted(.string(text)) ?? objectID(text).flatMap { accepted(.objectID($0)) }
                ?? ISO8601.date(from: text).flatMap { accepted(.datetime(BSONDateTime($0))) }
                ?? decimal(text).flatMap { accepted(.decimal128($0)) }
                ?? Data(base64Encoded: text).flatMap { accepted(.binary(BSONBinary(subtype: .generic, data: Array($0)))) }
        case .array, .object:
            return accepted(generic(json))
        }
    }

    /// Free-form JSON as BSON: numbers that fit in 32 bits as int32 (as MongoDB's relaxed
    /// extended JSON reads them), strings as strings.
    static func generic(_ json: JSONValue) -> BSONValue {
        switch json {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .integer(let number): Int32(exactly: number).map(BSONValue.int32) ?? .int64(number)
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(generic))
        case .object(let members): .document(BSONDocument(elements: members.map { ($0.key, generic($0.value)) }))
        }
    }

    /// The id 24 hex digits spell, or nil.
    static func objectID(_ text: String) -> ObjectID? {
        guard text.utf8.count == 24 else { return nil }
        do {
            return try ObjectID(text)
        } catch {
            return nil   // not an id: the caller reports the field with its expected type
        }
    }

    /// The decimal `text` spells, or nil.
    private static func decimal(_ text: String) -> Decimal128? {
        do {
            return try Decimal128(text)
        } catch {
            return nil   // not a decimal: the caller reports the field with its expected type
        }
    }
}
