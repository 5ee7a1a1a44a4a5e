import Foundation
import Testing
@testable import TendrilDriver

/// Bad input from the user: a typed error before anything reaches libbson's recursive code or
/// the server, and nothing stored (issue 6, items 7 and 9; docs/reliability.md).
@Suite("Bad input: nesting and size")
struct BadInputTests {
    /// `levels` documents, each the only value of the one around it.
    static func nested(_ levels: Int) throws -> BSONDocument {
        var document: BSONDocument = ["leaf": 1]
        for _ in 0..<levels { document = try BSONDocument().appending("d", .document(document)) }
        return document
    }

    @Test("100 levels of nesting (MongoDB's limit) are accepted, the 101st is a typed error")
    func nestingLimit() throws {
        let deepest = try Self.nested(BSONDocument.maximumNestingDepth)
        // What the server would send back validates too.
        _ = try BSONDocument(bytes: deepest.bytes)
        let error = #expect(throws: BSONError.self) { try BSONDocument().appending("d", .document(deepest)) }
        #expect(error?.kind == .nestingTooDeep)
        #expect(error?.key == "d", "the error names the value that does not fit")
        // Inside an array inside a document: the path runs through both.
        let inArray = #expect(throws: BSONError.self) { try BSONDocument().appending("list", [1, .document(deepest)]) }
        #expect(inArray?.key == "list.1")
    }

    /// Raw bytes of `{_id: id, d: {d: ... {leaf: 1}}}` nested `levels` deep below the top.
    static func rawNested(_ levels: Int, id: ObjectID) -> [UInt8] {
        func document(_ body: [UInt8]) -> [UInt8] {
            let length = UInt32(body.count + 5)
            return withUnsafeBytes(of: length.littleEndian, Array.init) + body + [0]
        }
        var inner = document([0x10] + Array("leaf".utf8) + [0, 1, 0, 0, 0])
        for _ in 0..<levels { inner = document([0x03] + Array("d".utf8) + [0] + inner) }
        // Put `_id` first at the top level: unwrap the outermost document and rebuild it.
        let body = Array(inner.dropFirst(4).dropLast())
        return document([0x07] + Array("_id".utf8) + [0] + id.bytes + body)
    }

    @Test("received bytes nested past the limit: the error names the field's path and the document's _id")
    func receivedTooDeepNamesPathAndID() throws {
        let id = ObjectID()
        _ = try BSONDocument(bytes: Self.rawNested(100, id: id))
        let error = #expect(throws: BSONError.self) { try BSONDocument(bytes: Self.rawNested(101, id: id)) }
        #expect(error?.kind == .nestingTooDeep)
        #expect(error?.key == Array(repeating: "d", count: 101).joined(separator: "."))
        #expect(error?.documentID == .objectID(id))
    }

    @Test("arrays nested 10,000 deep inside a task are a typed error, not a stack overflow")
    func deepArraysInATask() async throws {
        let outcome = await Task.detached { () -> BSONError? in
            var value: BSONValue = 1
            for _ in 0..<10_000 { value = .array([value]) }
            do {
                _ = try BSONDocument().appending("deep", value)
                return nil
            } catch {
                return error as? BSONError
            }
        }.value
        #expect(outcome?.kind == .nestingTooDeep)
    }

    @Test("a document nested too deep is refused before it is sent: nothing is stored")
    func deepInsertIsRefused() async throws {
        try await TestServer.withDatabase { database, recorder in
            let collection = database.collection("deep")
            var value: BSONValue = 1
            for _ in 0..<10_000 { value = .document(["d": value]) }
            let document: BSONDocument = ["deep": value]
            // A literal keeps the first error it met instead of throwing (dictionary literals
            // cannot throw): inserting it throws that error.
            let error = await #expect(throws: BSONError.self) { try await collection.insertOne(document) }
            #expect(error?.kind == .nestingTooDeep)
            #expect(recorder.count(of: "insert") == 0)
            let stored = try await collection.countDocuments()
            #expect(stored == 0)
        }
    }

    @Test("a document over 16 MiB is refused before it is sent: nothing is stored")
    func oversizedInsertIsRefused() async throws {
        try await TestServer.withDatabase { database, recorder in
            let collection = database.collection("big")
            let big: BSONDocument = ["blob": .binary(BSONBinary(subtype: .generic, data: Array(repeating: 7, count: 16 * 1024 * 1024)))]
            let error = await #expect(throws: BSONError.self) { try await collection.insertOne(big) }
            #expect(error?.kind == .documentTooLarge)
            _ = await #expect(throws: BSONError.self) { try await collection.insertMany([["small": 1], big]) }
            _ = await #expect(throws: BSONError.self) { try await collection.replaceOne([:], big, upsert: true) }
            _ = await #expect(throws: BSONError.self) { try await collection.bulkWrite([.insertOne(["small": 1]), .insertOne(big)]) }
            #expect(recorder.count(of: "insert") + recorder.count(of: "update") == 0)
            let stored = try await collection.countDocuments()
            #expect(stored == 0)
        }
    }

    static let invalidUTF8Cases: [([UInt8], String)] = [
        (RawBSON.document([RawBSON.string("name", [0x47, 0x72, 0xFF])]), "name"),
        (RawBSON.document([
            RawBSON.int32("a", 1),
            RawBSON.embedded("address", RawBSON.document([RawBSON.string("zip", Array("1".utf8)), RawBSON.string("city", [0x4C, 0xC3])])),
        ]), "address.city"),
        (RawBSON.document([
            RawBSON.embedded("tags", RawBSON.document([RawBSON.string("0", Array("ok".utf8)), RawBSON.string("1", [0xFF])]), type: 0x04),
        ]), "tags.1"),
        (RawBSON.document([RawBSON.string("k", Array("v".utf8)), RawBSON.element(0x10, [0x6B, 0xFF], [1, 0, 0, 0])]), "k\\xFF"),
    ]

    @Test("invalid UTF-8 in stored bytes names the field that holds it, at any depth", arguments: invalidUTF8Cases)
    func invalidUTF8NamesTheField(bytes: [UInt8], path: String) {
        let error = #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
        #expect(error?.key == path)
        #expect(error?.message.contains("\"\(path)\"") == true, "\(String(describing: error))")
        #expect(error?.message.contains("\u{FFFD}") == false)
    }
}

/// Hand-built BSON, for bytes no encoder would produce (strings that are not UTF-8).
enum RawBSON {
    static func document(_ elements: [[UInt8]]) -> [UInt8] {
        let body: [UInt8] = elements.flatMap { $0 } + [0]
        return littleEndian(UInt32(body.count + 4)) + body
    }

    static func element(_ type: UInt8, _ key: [UInt8], _ value: [UInt8]) -> [UInt8] {
        [type] + key + [0] + value
    }

    static func string(_ key: String, _ text: [UInt8]) -> [UInt8] {
        element(0x02, Array(key.utf8), littleEndian(UInt32(text.count + 1)) + text + [0])
    }

    static func int32(_ key: String, _ value: Int32) -> [UInt8] {
        element(0x10, Array(key.utf8), littleEndian(UInt32(bitPattern: value)))
    }

    static func embedded(_ key: String, _ document: [UInt8], type: UInt8 = 0x03) -> [UInt8] {
        element(type, Array(key.utf8), document)
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
