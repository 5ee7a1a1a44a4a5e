import Synchronization
import Testing
@testable import Tendril
import TendrilDriver

/// Hands out 1, 2, 3...: a default that differs for every instance, as `UUID()` or `Date()` do.
enum Serials {
    private static let last = Atomic<Int>(0)
    static func next() -> Int { last.add(1, ordering: .relaxed).newValue }
}

/// A base class and a subclass, each with a default evaluated per instance.
class SerialBase: Document {
    override class var collectionName: String { "Serials" }
    @Field var baseSerial = Serials.next()
    @Field var label = "plain"
}

final class SerialDocument: SerialBase {
    @Field var serial = Serials.next()
    @Field var note: String?
}

@Suite("Declared defaults")
struct DefaultValueTests {
    /// What is stored for `document`, by key.
    static func stored(_ document: SerialDocument, in database: MongoDatabase) async throws -> BSONDocument? {
        let id = try #require(document.id)
        return try await database.collection("Serials").findOne(["_id": .objectID(id)])
    }

    @Test("a new document stores the defaults its own initialiser evaluated, read or not, in a class hierarchy")
    func ownDefaultsAreStored() async throws {
        try await TestServer.withDatabase { database, _ in
            let first = SerialDocument()
            let second = SerialDocument()
            #expect(first.schema.wrapperOffsets?.count == 4, "the fast path (wrapper offsets) is the one tested")
            let firstSerials = (first.baseSerial, first.serial)   // read before the insert
            #expect(first.changedFields.isEmpty && second.changedFields.isEmpty, "a default is not a change")
            try await first.insert(into: database)
            try await second.insert(into: database)   // never read before its insert
            let storedFirst = try #require(try await Self.stored(first, in: database))
            let storedSecond = try #require(try await Self.stored(second, in: database))
            #expect(storedFirst["baseSerial"]?.intValue == firstSerials.0 && storedFirst["serial"]?.intValue == firstSerials.1)
            // The second document's own serials: not the first's, nor the schema's copy.
            #expect(storedSecond["baseSerial"] != storedFirst["baseSerial"] && storedSecond["serial"] != storedFirst["serial"])
            #expect(storedSecond["baseSerial"]?.intValue == second.baseSerial && storedSecond["serial"]?.intValue == second.serial)
            #expect(storedSecond["label"] == "plain" && storedSecond["note"] == nil)
        }
    }

    @Test("a bulk insert stores each document's own defaults")
    func bulkInsertStoresOwnDefaults() async throws {
        try await TestServer.withDatabase { database, _ in
            let documents = (0..<5).map { _ in SerialDocument() }
            try await SerialDocument.insert(documents, into: database)
            var serials = Set<BSONValue>()
            for document in documents {
                let stored = try #require(try await Self.stored(document, in: database))
                serials.insert(try #require(stored["serial"]))
                #expect(stored["serial"]?.intValue == document.serial)
            }
            #expect(serials.count == 5)
        }
    }
}
