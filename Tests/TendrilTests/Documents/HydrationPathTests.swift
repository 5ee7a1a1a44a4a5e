import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// A small class (at most 12 fields): its offsets are packed straight by the C walk.
final class Membership: Document {
    @Field var count: Int32 = 0
    @Field var role: Role = .member
    @Field var note: String = ""
}

/// A type of the user's own that reads its stored scalar in place, through the engine's underscored hooks.
struct Celsius: FieldValue, Equatable {
    var degrees: Double
    var bsonValue: BSONValue { .double(degrees) }
    static func decode(_ value: BSONValue) -> Celsius? { Double.decode(value).map(Celsius.init) }
    static var expectedBSONType: String { "double" }
    static func _acceptsStoredType(_ type: BSONType) -> Bool? { Double._acceptsStoredType(type) }
    static func _decodeStored(_ element: borrowing _StoredElement) -> Celsius? { Double._decodeStored(element).map(Celsius.init) }
}

/// A type that uses only the public path (`bsonValue`, `decode(_:)`, `expectedBSONType`).
struct Flag: FieldValue, Equatable {
    var on: Bool
    var bsonValue: BSONValue { .bool(on) }
    static func decode(_ value: BSONValue) -> Flag? { value.boolValue.map(Flag.init) }
    static var expectedBSONType: String { "bool" }
}

final class Reading: Document {
    @Field var temperature = Celsius(degrees: 0)
    @Field var flag = Flag(on: false)
}

/// Arrays of every shape a field can declare, read in place from the stored bytes.
final class Shelf: Document {
    @Field var counts: [Int] = []
    @Field var ratios: [Double] = []
    @Field var narrow: [Int32] = []
    @Field var maybe: [String?] = []
    @Field var grid: [[Int32]] = []
    @Field var roles: [Role] = []
    @Field var places: [Address] = []
    @Field var anything: [BSONValue] = []
    @Field var empty: [Date] = [Date(timeIntervalSince1970: 1)]
}

/// Hydration from a query takes one of two paths: classes of up to 12 fields in documents under
/// 64 KiB have the C walk pack field offsets in place; others use offset arrays. Both must load
/// the same values and report the same errors.
@Suite("Documents: both hydration paths load and refuse alike")
struct HydrationPathTests {
    @Test("a document of 64 KiB or more (offsets too wide to pack) loads every field")
    func wideDocument() async throws {
        try await TestServer.withDatabase { database, _ in
            let long = String(repeating: "é", count: 40_000)   // 80,000 bytes of UTF-8
            try await database.collection("Person").insertOne(["name": .string(long), "age": 36, "tags": ["a", "b"], "mail": "x@y"])
            let person = try #require(try await Person.objects.using(database).first())
            #expect(person.name == long && person.age == 36 && person.tags == ["a", "b"] && person.email == "x@y")
        }
    }

    @Test("a wrong type after 64 KiB of earlier fields is still a type error naming the field")
    func wideDocumentMismatch() async throws {
        try await TestServer.withDatabase { database, _ in
            try await database.collection("Person").insertOne(["name": .string(String(repeating: "x", count: 70_000)), "age": "old"])
            let error = try await #require(throws: DocumentError.self) {
                _ = try await Person.objects.using(database).first()
            }
            #expect(error.kind == .typeMismatch(expected: "long", found: "string") && error.field == "age")
        }
    }

    @Test("values whose type byte cannot tell are decoded to check them, in a small class too")
    func decodedChecks() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("Membership")
            try await collection.insertOne(["count": .int64(1 << 20), "role": "admin", "note": "fits"])
            let loaded = try #require(try await Membership.objects.using(database).first())
            #expect(loaded.count == 1 << 20 && loaded.role == .admin && loaded.note == "fits")

            try await collection.deleteMany([:])
            try await collection.insertOne(["count": .int64(1 << 40)])
            let overflow = try await #require(throws: DocumentError.self) {
                _ = try await Membership.objects.using(database).first()
            }
            #expect(overflow.field == "count")

            try await collection.deleteMany([:])
            try await collection.insertOne(["role": "superuser"])
            let badCase = try await #require(throws: DocumentError.self) {
                _ = try await Membership.objects.using(database).first()
            }
            #expect(badCase.field == "role")
        }
    }

    @Test("custom field types decode from a _StoredElement: in place, or through the default")
    func customDecodeStored() async throws {
        try await TestServer.withDatabase { database, _ in
            try await database.collection("Reading").insertOne(["temperature": 21.5, "flag": true])
            try await database.collection("Reading").insertOne(["temperature": .int32(-3)])
            // Sorted here: without a sort, MongoDB promises no order.
            let readings = try await Reading.objects.using(database).all().sorted { $0.temperature.degrees < $1.temperature.degrees }
            #expect(readings.map(\.temperature) == [Celsius(degrees: -3), Celsius(degrees: 21.5)])
            #expect(readings.map(\.flag) == [Flag(on: false), Flag(on: true)])
        }
    }

    @Test("arrays read in place equal what decoding their BSON values gives, for every element shape")
    func arraysInPlace() throws {
        let stored: BSONDocument = [
            "_id": .objectID(ObjectID()),
            "counts": [.int32(1), .int64(1 << 40), .int32(-7)],
            "ratios": [.double(0.5), .int32(3)],
            "narrow": [.int64(12), .int32(-1)],
            "maybe": ["a", .null, "a string longer than fifteen bytes"],
            "grid": [[.int32(1), .int32(2)], [], [.int64(3)]],
            "roles": ["admin", "member"],
            "places": [["city": "Oslo", "zip": "0150"], ["city": "Rome"]],
            "anything": [.int32(1), "two", ["three": .bool(true)], [.null]],
            "empty": [],
        ]
        let shelf = try Shelf.decoding(stored)
        #expect(shelf.counts == [1, 1 << 40, -7] && [Int].decode(stored["counts"] ?? .null) == shelf.counts)
        #expect(shelf.ratios == [0.5, 3] && [Double].decode(stored["ratios"] ?? .null) == shelf.ratios)
        #expect(shelf.narrow == [12, -1] && [Int32].decode(stored["narrow"] ?? .null) == shelf.narrow)
        #expect(shelf.maybe == ["a", nil, "a string longer than fifteen bytes"])
        #expect(shelf.grid == [[1, 2], [], [3]] && [[Int32]].decode(stored["grid"] ?? .null) == shelf.grid)
        #expect(shelf.roles == [.admin, .member])
        #expect(shelf.places.map(\.city) == ["Oslo", "Rome"] && shelf.places.map(\.zip) == ["0150", nil])
        #expect(shelf.anything == [.int32(1), "two", ["three": .bool(true)], [.null]])
        #expect(shelf.empty.isEmpty)
        // An element that does not fit its type refuses the whole document, as before.
        var narrowTooWide = stored
        try narrowTooWide.setValue([.int64(1 << 40)], forKey: "narrow")
        let error = try #require(throws: DocumentError.self) { _ = try Shelf.decoding(narrowTooWide) }
        #expect(error.field == "narrow")
    }

    @Test("streaming a class of more than 12 fields loads each document's own values")
    func manyFields() async throws {
        try await TestServer.withDatabase { database, _ in
            let originals = (0..<250).map { index in
                let document = AllTypes()
                document.string = "s\(index)"
                document.int = index
                document.strings = ["\(index)"]
                document.optionalInt = index.isMultiple(of: 2) ? index : nil
                return document
            }
            try await AllTypes.insert(originals, into: database)
            var seen = 0
            for try await loaded in AllTypes.objects.using(database).sort(\.$int).batchSize(100) {
                #expect(loaded.string == "s\(seen)" && loaded.int == seen && loaded.strings == ["\(seen)"])
                #expect(loaded.optionalInt == (seen.isMultiple(of: 2) ? seen : nil))
                seen += 1
            }
            #expect(seen == 250)
        }
    }

    @Test("after an insert and a save, the new stored bytes are matched to the fields: reads keep known offsets", arguments: [false, true])
    func savedBytesAreMatched(manyFields: Bool) async throws {
        try await TestServer.withDatabase { database, _ in
            let document: Document
            if manyFields {
                let all = AllTypes()
                all.string = "s"
                all.optionalInt = 4
                document = all
            } else {
                let member = Membership()
                member.note = "new"
                document = member
            }
            try await document.insert(into: database)
            try Self.expectMatched(document)
            if let all = document as? AllTypes { all.int = 7 } else if let member = document as? Membership { member.count = 2 }
            try await document.save()
            try Self.expectMatched(document)
        }
    }

    /// Every field's recorded location is the element its key finds in the stored bytes.
    private static func expectMatched(_ document: Document) throws {
        let stored = try #require(document.fieldStorage.stored)
        let schema = document.schema
        #expect(document.fieldStorage.storedBytes == stored.unretainedBytes.data)
        for slot in schema.fields.indices {
            let offset = try #require(document.fieldStorage.locations.offset(of: slot), "slot \(slot) has no known location")
            let key = schema.keys[slot]
            #expect(offset < 0 ? stored[key] == nil : stored.value(atElementOffset: offset, keyLength: schema.keyLengths[slot]) == stored[key])
        }
    }
}
