import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Faults nx-27017 cannot produce, scripted with mockupdb (`Tests/Fixtures/mockupdb/scenario.py`):
/// issue 6, items 2, 4, 5 and 8; docs/reliability.md. Each test reads the scenario's report of
/// what the server received, so it proves what was sent, not only what came back.
// A hang fails the suite through its time limit instead of stalling the run.
@Suite("Faults: scripted with mockupdb", .serialized, .timeLimit(.minutes(1)))
struct ScriptedFaultTests {
    @Test("getMore failing with CursorNotFound is a typed error after the first batch, never a silent end")
    func cursorNotFound() async throws {
        let server = try MockServer("cursor-not-found")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        let cursor = try await client.database("faults").collection("numbers").find([:], options: FindOptions(batchSize: 2))
        var received: [Int] = []
        let error = await #expect(throws: MongoError.self) {
            for try await document in cursor { received.append(document["n"]?.intValue ?? -1) }
        }
        #expect(received == [1, 2])
        #expect(error?.kind == .cursor && error?.code == 43, "\(String(describing: error))")
        let report = try server.finish()
        #expect(MockServer.count("getMore", in: report) == 1)
    }

    @Test("the same through a Document query: the documents of the first batch, then the error")
    func cursorNotFoundThroughDocuments() async throws {
        let server = try MockServer("cursor-not-found")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        var hydrated = 0
        let error = await #expect(throws: MongoError.self) {
            for try await _ in Person.objects.using(client.database("faults")).batchSize(2) { hydrated += 1 }
        }
        #expect(hydrated == 2)
        #expect(error?.code == 43)
        _ = try server.finish()
    }

    @Test("a hang-up on a write to a replica-set primary is retried once, with the same transaction number, and stored once")
    func retryableWrite() async throws {
        let server = try MockServer("write-hangup-replica-set")
        let client = try MongoClient(server.uri("replicaSet=rs&serverSelectionTimeoutMS=2000"))
        try await client.database("faults").collection("orders").insertOne(["_id": 7, "item": "tea"])
        let report = try server.finish()
        let inserts = try #require(report["inserts"] as? [[String: Any]])
        #expect(inserts.count == 2, "one attempt and exactly one retry")
        let txnNumbers = inserts.map { "\($0["txnNumber"] ?? "none")" }
        let sessions = inserts.map { "\($0["lsid"] ?? "none")" }
        #expect(txnNumbers.count == 2 && txnNumbers[0] == txnNumbers[1] && txnNumbers[0] != "none",
                "a retry carries the first attempt's transaction number, so the server applies it once: \(txnNumbers)")
        #expect(sessions.count == 2 && sessions[0] == sessions[1])
    }

    @Test("a hang-up on a save to a standalone: outcome unknown, the change stays pending, a second save sends it again")
    func standaloneSaveOutcomeUnknown() async throws {
        let server = try MockServer("write-hangup-standalone")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        let database = client.database("faults")
        let person = try #require(try await Person.objects.using(database).first())
        person.age = 37
        let error = await #expect(throws: MongoError.self) { try await person.save() }
        #expect(error?.kind == .network)
        #expect(error?.isWriteOutcomeUnknown == true, "no retry against a standalone: the outcome is unknown")
        try await person.save()
        try await person.save()  // nothing pending any more: nothing sent
        let report = try server.finish()
        let updates = try #require(report["updates"] as? [String])
        #expect(updates.count == 2)
        #expect(updates.first == updates.last, "the retry sends the same $set, which is idempotent: \(updates)")
        #expect(updates.first?.contains(#""$set": {"age": 37}"#) == true, "\(updates)")
    }

    @Test("an insert stored before the hang-up: the retry keeps the _id and finds it stored, so there is one copy")
    func insertStoredBeforeHangup() async throws {
        let server = try MockServer("insert-stored-reply-lost")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        let person = Person()
        person.name = "Grace"
        let error = await #expect(throws: MongoError.self) { try await person.insert(into: client.database("faults")) }
        #expect(error?.isWriteOutcomeUnknown == true)
        let triedID = try #require(person.id, "the document keeps the _id it tried")
        #expect(person.isNew)
        try await person.insert(into: client.database("faults"))
        #expect(!person.isNew && person.id == triedID)
        let report = try server.finish()
        #expect(report["storedCount"] as? Int == 1)
        #expect(report["insertedIDs"] as? [String] == [triedID.hex, triedID.hex])
    }

    @Test("a server that never answers: a typed network error after socketTimeoutMS, not a hang")
    func slowServer() async throws {
        let server = try MockServer("slow-server")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000&socketTimeoutMS=300"))
        let error = await #expect(throws: MongoError.self) {
            _ = try await client.database("faults").collection("x").findOne(["_id": 1])
        }
        #expect(error?.kind == .network, "\(String(describing: error))")
        _ = try server.finish()
    }

    @Test("64 queries waiting on the server at once (more than the cores): all in flight together, none starves")
    func moreWaitersThanCores() async throws {
        let server = try MockServer("many-waiters")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=5000&maxPoolSize=100"))
        let collection = client.database("faults").collection("x")
        let found = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<64 {
                group.addTask { try await collection.findOne(["_id": .int32(Int32(index))]) == nil ? 0 : 1 }
            }
            return try await group.reduce(0, +)
        }
        #expect(found == 64)
        let report = try server.finish()
        #expect(report["mostOutstanding"] as? Int == 64, "the server saw \(report["mostOutstanding"] ?? 0) queries waiting at once")
    }

    @Test("invalid UTF-8 in a stored string: a typed error naming the field, after the valid documents")
    func invalidUTF8FromServer() async throws {
        let server = try MockServer("invalid-utf8")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        var names: [String] = []
        let error = await #expect(throws: DocumentError.self) {
            for try await person in Person.objects.using(client.database("faults")) { names.append(person.name) }
        }
        #expect(names == ["Ada"])
        guard case .invalidBSON(let cause)? = error?.kind else {
            Issue.record("expected DocumentError.invalidBSON, got \(String(describing: error))")
            return
        }
        #expect(cause.kind == .invalidUTF8 && error?.field == "name" && error?.collection == "Person", "\(String(describing: error))")
        let report = try server.finish()
        let ids = report["ids"] as? [String] ?? []
        #expect(error?.documentID == ids.dropFirst().first.flatMap { try? ObjectID($0) }.map(BSONValue.objectID), "the document's id")
    }
}
