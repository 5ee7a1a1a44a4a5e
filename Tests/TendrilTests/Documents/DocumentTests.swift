import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Documents: persistence and change tracking")
struct DocumentTests {
    @Test("a new document is inserted with every field; a loaded one saves only what changed")
    func insertThenSaveOnlyChanges() async throws {
        try await TestServer.withDatabase { database, recorder in
            let ada = Person()
            ada.name = "Ada"
            ada.age = 36
            ada.tags.append("math")
            try await ada.save(in: database)
            let id = try #require(ada.id)
            #expect(!ada.isNew)
            let inserted = try #require(recorder.commands(named: "insert").first?["documents"]?.arrayValue?.first?.documentValue)
            #expect(inserted == ["_id": .objectID(id), "name": "Ada", "age": .int64(36), "tags": ["math"], "scores": .document([:])])

            recorder.reset()
            try await ada.save(in: database)
            #expect(recorder.startedEvents.isEmpty, "nothing changed: nothing sent")

            ada.age = 37
            ada.email = "ada@example.com"
            ada.tags.append("poetry")
            try await ada.save(in: database)
            let update = try #require(recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue)
            #expect(update["q"] == .document(["_id": .objectID(id)]))
            #expect(update["u"] == .document(["$set": ["age": .int64(37), "tags": ["math", "poetry"], "mail": "ada@example.com"]]))

            recorder.reset()
            ada.email = nil
            try await ada.save(in: database)
            let unset = try #require(recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue)
            #expect(unset["u"] == .document(["$unset": ["mail": ""]]))

            let stored = try #require(try await database.collection("Person").findOne(["_id": .objectID(id)]))
            #expect(stored.keys == ["_id", "name", "age", "tags", "scores"])
            #expect(stored["age"]?.intValue == 37 && stored["tags"] == ["math", "poetry"] && stored["mail"] == nil)
        }
    }
}
