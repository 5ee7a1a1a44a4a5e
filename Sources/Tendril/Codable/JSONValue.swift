import Foundation

/// A JSON value as Codable carries it: the form documents pass through on their way to and from
/// an `Encoder` or `Decoder`, so conversion to and from BSON is checked field by field against
/// the schema instead of being left to each decoder's strategies.
enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order: documents encode their fields in declaration order.
    case object([(key: String, value: JSONValue)])

    /// The JSON type, for errors (`string "abc"`, `number 1.5`, ...).
    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "bool \(value)"
        case .integer(let value): "number \(value)"
        case .double(let value): "number \(value)"
        // Short, so a long string in a request does not fill the error.
        case .string(let value): "string \"\(value.count > 32 ? value.prefix(32) + "…" : Substring(value))\""
        case .array: "array"
        case .object: "object"
        }
    }

    /// The member named `key` of an object, or nil.
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}

/// Any string as a coding key: documents' keys come from their schema, not from an enum.
struct JSONKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONValue: Encodable {
    func encode(to encoder: any Encoder) throws {
        switch self {
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let members):
            var container = encoder.container(keyedBy: JSONKey.self)
            for (key, value) in members { try container.encode(value, forKey: JSONKey(key)) }
        case .null, .bool, .integer, .double, .string:
            var container = encoder.singleValueContainer()
            switch self {
            case .bool(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .null: try container.encodeNil()
            case .array, .object: break   // encoded above
            }
        }
    }
}

extension JSONValue: Decodable {
    /// Reads whatever JSON value comes, trying each JSON type in turn.
    /// - Throws: `DecodingError.dataCorrupted` when the decoder gives none of them.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try Self.attempt({ try container.decode(Bool.self) }) { self = .bool(value); return }
        // A number as a Double first: a failed Int64 read of a fraction leaves Foundation's
        // decoder unable to read the number again. Integers are then read exactly.
        if let number = try Self.attempt({ try container.decode(Double.self) }) {
            if number.rounded() == number, let value = try Self.attempt({ try container.decode(Int64.self) }) {
                self = .integer(value)
            } else {
                self = .double(number)
            }
            return
        }
        if let value = try Self.attempt({ try container.decode(String.self) }) { self = .string(value); return }
        if let value = try Self.attempt({ try container.decode([JSONValue].self) }) { self = .array(value); return }
        if let value = try Self.attempt({ try container.decode([String: JSONValue].self) }) {
            self = .object(value.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
            return
        }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a JSON value"))
    }

    /// The value when the decoder reads it as that type; nil when it refuses it (a type
    /// mismatch, or a number that does not fit). Other errors propagate.
    private static func attempt<Value>(_ decode: () throws -> Value) throws -> Value? {
        do {
            return try decode()
        } catch is DecodingError {
            return nil
        }
    }
}
