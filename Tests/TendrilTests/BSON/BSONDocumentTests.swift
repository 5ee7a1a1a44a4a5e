import Foundation
import Testing
@testable import TendrilDriver

@Suite("BSONDocument")
struct BSONDocumentTests {
    @Test("literals build documents that read back by key and in order")
    func literalsAndReading() throws {
        let id = ObjectID()
        let document: BSONDocument = [
            "name": "Ada", "born": 1815, "big": .int64(1 << 40), "ratio": 1.5, "alive": false,
            "id": .objectID(id), "nested": ["level": ["deep": true]], "tags": ["math", "poetry"], "nothing": .null,
        ]
        #expect(document.keys == ["name", "born", "big", "ratio", "alive", "id", "nested", "tags", "nothing"])
        #expect(document["name"] == "Ada")
        #expect(document["born"] == .int32(1815))
        #expect(document["big"]?.intValue == 1 << 40)
        #expect(document["ratio"]?.doubleValue == 1.5)
        #expect(document["alive"]?.boolValue == false)
        #expect(document["id"]?.objectIDValue == id)
        #expect(document["nested"]?.documentValue?["level"]?.documentValue?["deep"] == true)
        #expect(document["tags"]?.arrayValue == ["math", "poetry"])
        #expect(document["nothing"]?.isNull == true)
        #expect(document["missing"] == nil)
        #expect(document.count == 9)
        #expect(document.map(\.key) == document.keys)
    }

    @Test("BSONType names every BSON type by its type byte, and each value reports the type it encodes as")
    func bsonTypes() throws {
        #expect(BSONType.allCases.count == 21)
        #expect(BSONType(rawValue: 0x10) == .int32 && BSONType(rawValue: 0x7F) == .maxKey && BSONType(rawValue: 0x14) == nil)
        let document = try BSONDocument(extendedJSON: """
            {"d": 1.5, "s": "a", "o": {}, "a": [], "b": {"$binary": {"base64": "", "subType": "00"}},
             "u": {"$undefined": true}, "i": {"$oid": "57e193d7a9cc81b4027498b5"}, "t": true,
             "dt": {"$date": {"$numberLong": "0"}}, "n": null, "r": {"$regularExpression": {"pattern": "x", "options": ""}},
             "p": {"$dbPointer": {"$ref": "c", "$id": {"$oid": "57e193d7a9cc81b4027498b5"}}}, "j": {"$code": "x"},
             "y": {"$symbol": "x"}, "js": {"$code": "x", "$scope": {}}, "i32": {"$numberInt": "1"},
             "ts": {"$timestamp": {"t": 1, "i": 1}}, "i64": {"$numberLong": "1"}, "dec": {"$numberDecimal": "1"},
             "min": {"$minKey": 1}, "max": {"$maxKey": 1}}
            """)
        #expect(Set(document.map(\.value.type)) == Set(BSONType.allCases))
        for (key, value) in document {
            let single = BSONDocument(elements: [(key, value)])
            #expect(single.bytes[4] == value.type.rawValue, "\(key)")
            #expect(single.type(atElementOffset: 4) == value.type, "\(key)")
            #expect(value.typeName == value.type.name)
        }
    }

    @Test("appending, replacing and removing keep order and copy on write")
    func mutation() throws {
        var original: BSONDocument = ["a": 1, "b": 2]
        let snapshot = original
        try original.append("c", 3)
        try original.setValue("two", forKey: "b")
        #expect(original.keys == ["a", "b", "c"])
        #expect(original["b"] == "two")
        #expect(snapshot.keys == ["a", "b"], "a copy is unaffected by later mutation")
        #expect(original.removeValue(forKey: "a") == 1)
        #expect(original.keys == ["b", "c"])
        #expect(original.removeValue(forKey: "zzz") == nil)
    }

    @Test("equality is byte equality: order and numeric type matter")
    func equality() {
        let first: BSONDocument = ["a": 1, "b": 2]
        #expect(first == ["a": 1, "b": 2])
        #expect(first != ["b": 2, "a": 1])
        #expect(first != ["a": .int64(1), "b": 2])
        #expect(Set([first, ["a": 1, "b": 2]]).count == 1)
    }

    @Test("ten .string/.int64 keys computed inside a map closure build with BSONDocument { } as the literal would")
    func documentBuilder() throws {
        // The closure's parameter type is inferred: written as one literal (or one
        // `elements:` array), these values make the type checker give up after about 10 s.
        let people = (0..<3).map { index in
            BSONDocument {
                ("name", .string("person \(index)"))
                ("age", .int64(Int64(20 + index % 50)))
                ("city", .string("city \(index % 10)"))
                ("score", .int64(Int64(index) * 7))
                ("team", .string("blue"))
                ("rank", .int64(Int64(index) + 1))
                ("country", .string("NZ"))
                ("visits", .int64(0))
                ("status", .string("active"))
                ("balance", .int64(-Int64(index)))
                if index.isMultiple(of: 2) { ("even", .bool(true)) }
                for slot in 0..<index { ("slot\(slot)", .int64(Int64(slot))) }
            }
        }
        let literal: BSONDocument = [
            "name": "person 2", "age": .int64(22), "city": "city 2", "score": .int64(14), "team": "blue",
            "rank": .int64(3), "country": "NZ", "visits": .int64(0), "status": "active", "balance": .int64(-2),
            "even": true, "slot0": .int64(0), "slot1": .int64(1),
        ]
        #expect(people.last == literal, "the same bytes as the literal")
        #expect(people.map(\.count) == [11, 11, 13])
        #expect(people.allSatisfy { $0.encodingError == nil })
    }

    @Test("BSONDocument(elements:) builds ten .string/.int64 keys inside a map closure, as the literal would")
    func elementsBuilder() {
        let people = ["Ada", "Grace"].map { name in
            BSONDocument(elements: [
                ("name", .string(name)), ("age", .int64(36)), ("city", .string("London")), ("score", .int64(7)),
                ("team", .string("blue")), ("rank", .int64(1)), ("country", .string("UK")), ("visits", .int64(0)),
                ("status", .string("active")), ("initial", .string(String(name.prefix(1)))),
            ])
        }
        let literal: BSONDocument = [
            "name": "Grace", "age": .int64(36), "city": "London", "score": .int64(7), "team": "blue",
            "rank": .int64(1), "country": "UK", "visits": .int64(0), "status": "active", "initial": "G",
        ]
        #expect(people.last == literal, "the same bytes as the literal")
        #expect(people.first?.keys == literal.keys)

        let withBadKey = BSONDocument(elements: [("ok", .int64(1)), ("bad\0key", .int64(2)), ("kept", .string("x"))])
        #expect(withBadKey.keys == ["ok", "kept"])
        #expect(withBadKey.encodingError?.kind == .invalidKey)
    }

    @Test("a key with a NUL byte is refused, never truncated")
    func nulKeys() throws {
        var document = BSONDocument()
        #expect(throws: BSONError(.invalidKey, "key \"a\\0b\" contains a NUL byte, which BSON cannot encode", key: "a\0b")) {
            try document.append("a\0b", 1)
        }
        #expect(document.isEmpty, "a failed append leaves the document unchanged")
        let literal: BSONDocument = ["ok": 1, "bad\0key": 2]
        #expect(literal.encodingError?.kind == .invalidKey)
        #expect(throws: BSONError.self) { try literal.checkEncodable() }
    }

    @Test("looking up a key that holds a NUL finds nothing, never a prefix of it")
    func nulKeyLookup() {
        let document: BSONDocument = ["a": .null, "ab": 1]
        #expect(document["a\0b"] == nil)
        #expect(document["a\0"] == nil)
        #expect(document["a"] == .null)
    }

    @Test("a regex whose pattern holds a NUL is refused as an invalid value")
    func regexWithNul() {
        var document = BSONDocument()
        let error = #expect(throws: BSONError.self) {
            try document.append("r", .regex(BSONRegularExpression(pattern: "a\0b")))
        }
        #expect(error?.kind == .invalidValue)
    }

    @Test("code with scope whose code string lacks its NUL terminator is malformed")
    func codeWithScopeWithoutTerminator() {
        let bytes: [UInt8] = [24, 0, 0, 0, 0x0F, 0x61, 0, 16, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x62, 0x58, 5, 0, 0, 0, 0, 0]
        #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
        var terminated = bytes
        terminated[17] = 0
        #expect(throws: Never.self) { try BSONDocument(bytes: terminated) }
    }

    @Test("typed readers at an element offset check type, key length and every bound")
    func typedReadersAreBounded() {
        // {"a": 1, "bb": "xyz", "c": 2.5}: elements start at offsets 4, 11 and 23.
        let document: BSONDocument = ["a": .int32(1), "bb": "xyz", "c": 2.5]
        #expect(document.integer(atElementOffset: 4, keyLength: 1) == 1)
        #expect(document.string(atElementOffset: 11, keyLength: 2) == "xyz")
        #expect(document.double(atElementOffset: 23, keyLength: 1) == 2.5)
        #expect(document.value(atElementOffset: 11, keyLength: 2) == "xyz")
        #expect(document.string(atElementOffset: 4, keyLength: 1) == nil, "wrong type")
        #expect(document.integer(atElementOffset: 4, keyLength: 3) == nil, "wrong key length")
        for offset in [-1, 0, 3, document.byteCount - 1, document.byteCount, 10_000] {
            #expect(document.integer(atElementOffset: offset, keyLength: 1) == nil)
            #expect(document.string(atElementOffset: offset, keyLength: 1) == nil)
            #expect(document.objectID(atElementOffset: offset, keyLength: 1) == nil)
            #expect(document.typeByte(atElementOffset: offset) == nil)
            #expect(document.value(atElementOffset: offset, keyLength: 1) == .null)
        }
    }

    @Test("strings with embedded NUL bytes and non-ASCII text round-trip")
    func textRoundTrip() throws {
        let document: BSONDocument = ["s": "a\0b — ☃", "code": .javascript("x\0y"), "sym": .symbol("é")]
        let reread = try BSONDocument(bytes: document.bytes)
        #expect(reread["s"] == "a\0b — ☃")
        #expect(reread["code"] == .javascript("x\0y"))
        #expect(reread["sym"] == .symbol("é"))
    }

    @Test("malformed bytes are rejected with a typed error")
    func malformedBytes() {
        let cases: [[UInt8]] = [
            [], [0x05, 0, 0], [0x06, 0, 0, 0, 0], [0x05, 0, 0, 0, 1],
            [0x0C, 0, 0, 0, 0x02, 0x61, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0],   // string length past the end
            [0x0A, 0, 0, 0, 0x99, 0x61, 0, 0, 0, 0],                     // unknown type byte
        ]
        for bytes in cases {
            #expect(throws: BSONError.self, "\(bytes)") { try BSONDocument(bytes: bytes) }
        }
    }

    @Test("invalid UTF-8 in a string is rejected")
    func invalidUTF8() throws {
        var bytes = (["s": "ab"] as BSONDocument).bytes
        bytes[11] = 0xFF   // header 4, type 1, "s\0" 2, length 4: the text starts at offset 11
        #expect(throws: BSONError(.invalidUTF8, "invalid UTF-8 in field \"s\" (the element at byte offset 4)", key: "s")) {
            try BSONDocument(bytes: bytes)
        }
    }

    @Test("UTF-8 validation's ASCII fast path hands anything else to the full check", arguments: [0, 7, 8, 9, 15, 16, 20])
    func invalidUTF8AfterASCII(position: Int) throws {
        let text = String(repeating: "a", count: 21)
        var bytes = (["s": .string(text)] as BSONDocument).bytes
        #expect(throws: Never.self) { try BSONDocument(bytes: bytes) }
        bytes[11 + position] = 0xC3   // a lead byte without its continuation
        #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
        bytes[11 + position] = 0x00   // NUL is allowed inside string values
        #expect(throws: Never.self) { try BSONDocument(bytes: bytes) }
        let accented = "é" + String(repeating: "b", count: 10)   // valid multi-byte text passes
        #expect(throws: Never.self) { try BSONDocument(bytes: (["s": .string(accented)] as BSONDocument).bytes) }
    }

    @Test("nesting deeper than 100 levels is rejected before libbson recurses")
    func nestingDepth() throws {
        func nested(_ depth: Int) -> [UInt8] {
            // {"a": {"a": ... {} }} written as bytes in one pass, so building does not recurse either.
            var bytes: [UInt8] = []
            for level in 0..<depth {
                let length = UInt32(5 + 8 * (depth - level))
                bytes += withUnsafeBytes(of: length.littleEndian, Array.init) + [0x03, 0x61, 0]
            }
            bytes += [5, 0, 0, 0, 0] + [UInt8](repeating: 0, count: depth)
            return bytes
        }
        #expect(throws: Never.self) { try BSONDocument(bytes: nested(100)) }
        #expect(throws: BSONError.self) { try BSONDocument(bytes: nested(101)) }
        #expect(throws: BSONError.self) { try BSONDocument(bytes: nested(100_000)) }
    }

    @Test("BSONDocument(bytes:) copies: later changes to the input do not leak in")
    func copiesInput() throws {
        var bytes = (["n": 1] as BSONDocument).bytes
        let document = try BSONDocument(bytes: bytes)
        bytes[bytes.count - 2] = 9
        #expect(document["n"] == 1)
    }

    @Test("extended JSON round-trips in canonical and relaxed forms")
    func extendedJSON() throws {
        let document: BSONDocument = ["n": 1, "l": .int64(2), "d": 1.5, "when": .datetime(BSONDateTime(millisecondsSinceEpoch: 0))]
        #expect(try BSONDocument(extendedJSON: document.canonicalExtendedJSON) == document)
        #expect(document.relaxedExtendedJSON.contains("\"n\" : 1"))
        #expect(throws: BSONError.self) { try BSONDocument(extendedJSON: "{\"a\": ") }
    }
}

@Suite("ObjectID, Decimal128 and datetimes")
struct BSONScalarTests {
    @Test("generated ObjectIDs are unique, ordered and timestamped now")
    func objectIDGeneration() throws {
        let ids = (0..<1000).map { _ in ObjectID() }
        #expect(Set(ids).count == 1000)
        #expect(ids.sorted() == ids, "the counter makes ids of one process increase")
        #expect(abs(ids[0].timestamp.timeIntervalSinceNow) < 300)
    }

    @Test("ObjectIDs parse from and print to 24 hex digits")
    func objectIDParsing() throws {
        let id = try ObjectID("507f1f77bcf86cd799439011")
        #expect(id.hex == "507f1f77bcf86cd799439011")
        #expect(try ObjectID("507F1F77BCF86CD799439011") == id)
        #expect(id.timestamp == Date(timeIntervalSince1970: 0x507f1f77))
        for bad in ["", "507f1f77bcf86cd79943901", "507f1f77bcf86cd79943901g", "507f1f77bcf86cd7994390111"] {
            #expect(throws: BSONError.self, "\(bad)") { try ObjectID(bad) }
        }
        #expect(throws: BSONError.self) { try ObjectID(bytes: [1, 2, 3]) }
        #expect(id.bytes == [0x50, 0x7f, 0x1f, 0x77, 0xbc, 0xf8, 0x6c, 0xd7, 0x99, 0x43, 0x90, 0x11])
        #expect(try ObjectID(bytes: id.bytes) == id)
    }

    @Test("Decimal128 round-trips its string form", arguments: ["0", "-0", "1.5", "1E+6144", "-1.23E-6000", "NaN", "Infinity"])
    func decimal128(text: String) throws {
        let value = try Decimal128(text)
        #expect(try Decimal128(value.description) == value)
    }

    @Test("Decimal128 rejects invalid text")
    func decimal128Invalid() {
        for bad in ["", "abc", "1.2.3", "1\u{0}2", "1E+99999"] {
            #expect(throws: BSONError.self, "\(bad)") { try Decimal128(bad) }
        }
    }

    @Test("dates BSON cannot represent are clamped, and a NaN date is the epoch, never a trap")
    func unrepresentableDates() {
        #expect(BSONDateTime(Date(timeIntervalSince1970: .nan)).millisecondsSinceEpoch == 0)
        #expect(BSONDateTime(Date(timeIntervalSince1970: .infinity)).millisecondsSinceEpoch > 9_000_000_000_000_000_000)
        #expect(BSONDateTime(Date(timeIntervalSince1970: -.infinity)).millisecondsSinceEpoch < -9_000_000_000_000_000_000)
    }

    @Test("datetimes keep exact milliseconds and convert to Date")
    func datetimes() {
        let instant = BSONDateTime(millisecondsSinceEpoch: 1_700_000_000_123)
        #expect(instant.date == Date(timeIntervalSince1970: 1_700_000_000.123))
        #expect(BSONDateTime(instant.date).millisecondsSinceEpoch == 1_700_000_000_123)
    }
}
