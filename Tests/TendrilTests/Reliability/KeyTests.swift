import Foundation
import Testing
@testable import Tendril

/// Keys that may not be stored (empty, holding `.`, `$` or NUL) in user maps and free-form
/// documents: refused on insert, on save of a change and in query updates, naming the field and
/// the key, with nothing sent (issue 6, item 10; docs/reliability.md).
@Suite("Bad input: keys")
struct KeyTests {
    static let badKeys = ["", "a.b", "$ne", "price$", "nul\0key"]

    @Test("a bad key in a dictionary field is refused on insert, naming the field and key", arguments: badKeys)
    func insertRefused(key: String) async throws {
        try await TestServer.withDatabase { database, recorder in
            let person = Person()
            person.scores = [key: 1, "fine": 2]
            recorder.reset()
            let error = try await #require(throws: DocumentError.self) { try await person.insert(into: database) }
            #expect(error.kind == .invalidFieldKey && error.field == "scores[\(key.debugDescription)]")
            #expect(recorder.startedEvents.isEmpty)
            #expect(person.isNew)
        }
    }

    @Test("a bad key added to a stored document is refused on save; the change stays pending", arguments: badKeys)
    func saveRefused(key: String) async throws {
        try await TestServer.withDatabase { database, recorder in
            let person = Person()
            person.scores = ["math": 1]
            try await person.insert(into: database)
            person.scores[key] = 2
            recorder.reset()
            let error = try await #require(throws: DocumentError.self) { try await person.save(in: database) }
            #expect(error.kind == .invalidFieldKey)
            #expect(recorder.startedEvents.isEmpty)
            #expect(person.scores[key] == 2)   // still pending: fix the key and save again
            person.scores[key] = nil
            person.scores["physics"] = 3
            try await person.save(in: database)
            let stored = try await Person.objects.using(database).get(try #require(person.id))
            #expect(stored?.scores == ["math": 1, "physics": 3])
        }
    }

    @Test("a bad key nested in a free-form document is refused too")
    func nestedFreeForm() async throws {
        try await TestServer.withDatabase { database, recorder in
            let box = Box<BSONDocument>()
            box.payload = ["outer": ["in.ner": 1]]
            recorder.reset()
            let error = try await #require(throws: DocumentError.self) { try await box.insert(into: database) }
            #expect(error.kind == .invalidFieldKey && error.field == "payload[\"in.ner\"]")
            #expect(recorder.startedEvents.isEmpty)
        }
    }

    @Test("a query update setting a map with a bad key is refused before it is sent")
    func queryUpdateRefused() async throws {
        try await TestServer.withDatabase { database, recorder in
            recorder.reset()
            let error = try await #require(throws: DocumentError.self) {
                try await Person.objects.using(database).update(.set(\.$scores, ["$where": 1]))
            }
            #expect(error.kind == .invalidFieldKey && error.field == "scores[\"$where\"]")
            #expect(recorder.startedEvents.isEmpty)
        }
    }
}
