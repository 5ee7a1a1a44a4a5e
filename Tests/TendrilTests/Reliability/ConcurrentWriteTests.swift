import Foundation
import Testing
@testable import Tendril

/// A document with optimistic concurrency: `.version` is checked and incremented by each save.
final class Ledger: Document {
    @Field var owner: String = ""
    @Field var balance: Int = 0
    @Field var note: String = ""
    @Field(.version) var version: Int = 0
}

/// Two `.version` fields: a declaration error.
final class TwiceVersioned: Document {
    @Field(.version) var first: Int = 0
    @Field(.version) var second: Int = 0
}

/// Lost updates and resurrection (issue 6, item 13; docs/reliability.md).
@Suite("Concurrent writers")
struct ConcurrentWriteTests {
    /// Inserts `document`, then loads it twice: two writers of one stored document, and its id.
    private func twoWriters<T: Document>(of document: T, in database: MongoDatabase) async throws -> (T, T, ObjectID) {
        try await document.insert(into: database)
        let id = try #require(document.id)
        let first = try #require(try await T.objects.using(database).get(id))
        let second = try #require(try await T.objects.using(database).get(id))
        return (first, second, id)
    }

    @Test("two instances changing different fields both land")
    func differentFieldsBothLand() async throws {
        try await TestServer.withDatabase { database, _ in
            let person = Person()
            person.name = "Ada"
            let (first, second, id) = try await twoWriters(of: person, in: database)
            first.age = 36
            second.tags = ["math"]
            try await first.save()
            try await second.save()
            let stored = try #require(try await Person.objects.using(database).get(id))
            #expect(stored.name == "Ada" && stored.age == 36 && stored.tags == ["math"])
        }
    }

    @Test("the second writer of a versioned document gets a conflict and nothing of its change lands")
    func versionConflict() async throws {
        try await TestServer.withDatabase { database, recorder in
            let ledger = Ledger()
            ledger.owner = "Ada"
            let (first, second, id) = try await twoWriters(of: ledger, in: database)
            first.balance = 10
            try await first.save()
            #expect(first.version == 1)
            second.note = "overdrawn"
            let error = try await #require(throws: DocumentError.self) { try await second.save() }
            #expect(error.kind == .versionConflict(expected: 0) && error.field == "version")
            #expect(second.note == "overdrawn")   // the change stays pending
            let stored = try #require(try await Ledger.objects.using(database).get(id))
            #expect(stored.balance == 10 && stored.note == "" && stored.version == 1)
            // The filter sent names the version loaded; the update increments it.
            let update = try #require(recorder.commands(named: "update").last)
            let statement = try #require(update["updates"]?.arrayValue?.first?.documentValue)
            #expect(statement["q"]?.documentValue?["version"] == .int64(0))
            // Reloaded, the change goes through.
            try await second.reload()
            second.note = "overdrawn"
            try await second.save()
            #expect(second.version == 2)
            let again = try #require(try await Ledger.objects.using(database).get(id))
            #expect(again.balance == 10 && again.note == "overdrawn" && again.version == 2)
        }
    }

    @Test("a version set by hand is ignored: the save checks the stored one and increments it")
    func handSetVersionIgnored() async throws {
        try await TestServer.withDatabase { database, _ in
            let ledger = Ledger()
            try await ledger.insert(into: database)
            ledger.version = 41
            ledger.balance = 5
            try await ledger.save()
            #expect(ledger.version == 1)
        }
    }

    @Test("versioned bulk saves: the conflicting document is named, the others are marked saved")
    func bulkConflict() async throws {
        try await TestServer.withDatabase { database, _ in
            let a = Ledger(), b = Ledger()
            try await Ledger.insert([a, b], into: database)
            let bID = try #require(b.id)
            let rival = try #require(try await Ledger.objects.using(database).get(bID))
            rival.note = "rival"
            try await rival.save()
            a.balance = 1
            b.balance = 2
            let error = try await #require(throws: DocumentError.self) { try await Ledger.save([a, b], in: database) }
            #expect(error.kind == .versionConflict(expected: 0) && error.documentID == .objectID(bID), "\(error)")
            #expect(a.version == 1)   // applied and marked saved: a further change saves cleanly
            a.balance = 3
            try await Ledger.save([a], in: database)
            #expect(a.version == 2)
        }
    }

    @Test("saving a document someone else deleted is a not-found error, never a resurrection")
    func noResurrection() async throws {
        try await TestServer.withDatabase { database, _ in
            for versioned in [false, true] {
                let document: Document = versioned ? Ledger() : Person()
                try await document.insert(into: database)
                let id = try #require(document.id)
                if versioned {
                    try await Ledger.objects.using(database).filter(\.$owner == "").delete()
                    (document as? Ledger)?.balance = 9
                } else {
                    try await Person.objects.using(database).delete()
                    (document as? Person)?.age = 9
                }
                let error = try await #require(throws: DocumentError.self) { try await document.save(in: database) }
                #expect(error.kind == .notFound)
                let count = versioned ? try await Ledger.objects.using(database).count() : try await Person.objects.using(database).count()
                #expect(count == 0, "the save inserted \(id) again")
            }
        }
    }

    @Test("inserting under a taken id is a duplicate, unless it is a retry after an unknown outcome that meets its own copy")
    func insertUnderTakenID() async throws {
        try await TestServer.withDatabase { database, _ in
            func ada(id: ObjectID?, name: String = "Ada", retrying: Bool) -> Person {
                let person = Person()
                person.id = id
                person.name = name
                person.age = 36
                person.hasUnconfirmedInsert = retrying
                return person
            }
            let first = ada(id: nil, retrying: false)
            try await first.insert(into: database)
            // An id the caller chose: taken is taken, whatever is stored under it.
            let chosen = ada(id: first.id, retrying: false)
            let taken = try await #require(throws: DocumentError.self) { try await chosen.insert(into: database) }
            #expect(taken.kind == .duplicateKey && chosen.isNew)
            // A retry whose first attempt landed: the same document is there (read back through
            // the server, which may return the int64 age as an int32), so it is stored.
            let retry = ada(id: first.id, retrying: true)
            try await retry.insert(into: database)
            #expect(!retry.isNew && !retry.hasUnconfirmedInsert)
            // A retry meeting someone else's document under that id is a duplicate.
            let other = ada(id: first.id, name: "Alan", retrying: true)
            let error = try await #require(throws: DocumentError.self) { try await other.insert(into: database) }
            #expect(error.kind == .duplicateKey && other.isNew)
            #expect(try await Person.objects.using(database).count() == 1)
            #expect(try await Person.objects.using(database).first()?.name == "Ada")
        }
    }

    @Test("more than one .version field is a declaration error")
    func twoVersionFields() async throws {
        try await TestServer.withDatabase { database, _ in
            let error = try await #require(throws: DocumentError.self) { try await TwiceVersioned().insert(into: database) }
            #expect(error.kind == .notAField)
        }
    }
}
