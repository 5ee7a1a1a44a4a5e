import Foundation

/// MongoDB's BSON corpus, read in place from `../shared/bson-corpus/` beside the repository
/// (or `$TENDRIL_BSON_CORPUS`), never copied into the project.
struct BSONCorpusFile: Sendable, CustomStringConvertible {
    struct Valid: Sendable {
        var description: String
        var canonicalBSON: [UInt8]
        var canonicalExtendedJSON: String
        var relaxedExtendedJSON: String?
        var degenerateBSON: [UInt8]?
        var degenerateExtendedJSON: String?
        var convertedBSON: [UInt8]?
        var lossy: Bool
    }

    struct DecodeError: Sendable {
        var description: String
        var bson: [UInt8]
    }

    struct ParseError: Sendable {
        var description: String
        var string: String
    }

    var name: String
    var bsonType: String
    var valid: [Valid]
    var decodeErrors: [DecodeError]
    var parseErrors: [ParseError]

    var description: String { name }

    static let directory: URL = {
        if let path = ProcessInfo.processInfo.environment["TENDRIL_BSON_CORPUS"] {
            return URL(fileURLWithPath: path)
        }
        // Tests/TendrilTests/Support/BSONCorpus.swift -> repository root -> ../shared
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("shared/bson-corpus")
    }()

    /// Every corpus file; empty when the folder is missing (the count test then fails loudly).
    static let all: [BSONCorpusFile] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { load($0) }
    }()

    static func load(_ name: String) -> BSONCorpusFile? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        let valid = (object["valid"] as? [[String: Any]] ?? []).map { item in
            Valid(
                description: item["description"] as? String ?? "",
                canonicalBSON: hexBytes(item["canonical_bson"] as? String ?? ""),
                canonicalExtendedJSON: item["canonical_extjson"] as? String ?? "",
                relaxedExtendedJSON: item["relaxed_extjson"] as? String,
                degenerateBSON: (item["degenerate_bson"] as? String).map(hexBytes),
                degenerateExtendedJSON: item["degenerate_extjson"] as? String,
                convertedBSON: (item["converted_bson"] as? String).map(hexBytes),
                lossy: item["lossy"] as? Bool ?? false
            )
        }
        let decodeErrors = (object["decodeErrors"] as? [[String: Any]] ?? []).map {
            DecodeError(description: $0["description"] as? String ?? "", bson: hexBytes($0["bson"] as? String ?? ""))
        }
        let parseErrors = (object["parseErrors"] as? [[String: Any]] ?? []).map {
            ParseError(description: $0["description"] as? String ?? "", string: $0["string"] as? String ?? "")
        }
        return BSONCorpusFile(
            name: name, bsonType: object["bson_type"] as? String ?? "",
            valid: valid, decodeErrors: decodeErrors, parseErrors: parseErrors)
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes = [UInt8]()
    var high: UInt8?
    for character in hex.utf8 {
        guard let nibble = hexNibble(character) else { continue }
        if let first = high {
            bytes.append(first << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return bytes
}

private func hexNibble(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Extended JSON texts compared as JSON values: whitespace and key order do not matter,
/// every string (including `$numberDouble` digits) must match exactly.
func sameJSON(_ lhs: String, _ rhs: String) -> Bool {
    guard let left = try? JSONSerialization.jsonObject(with: Data(lhs.utf8), options: [.fragmentsAllowed]),
          let right = try? JSONSerialization.jsonObject(with: Data(rhs.utf8), options: [.fragmentsAllowed])
    else { return false }
    return jsonEqual(left, right)
}

/// Structural equality of JSONSerialization output (Linux does not bridge it to NSObject).
private func jsonEqual(_ lhs: Any, _ rhs: Any) -> Bool {
    switch (lhs, rhs) {
    case let (left as [String: Any], right as [String: Any]):
        return left.count == right.count && left.allSatisfy { key, value in right[key].map { jsonEqual(value, $0) } ?? false }
    case let (left as [Any], right as [Any]):
        return left.count == right.count && zip(left, right).allSatisfy(jsonEqual)
    case let (left as String, right as String):
        return left == right
    case let (left as Bool, right as Bool):
        return left == right
    case let (left as NSNumber, right as NSNumber):
        return left.doubleValue == right.doubleValue
    case (is NSNull, is NSNull):
        return true
    default:
        return false
    }
}
