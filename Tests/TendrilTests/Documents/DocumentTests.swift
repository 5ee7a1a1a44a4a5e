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

    @Test("hasChanges and changedFields say what a save would send; reading is not a change")
    func pendingChanges() async throws {
        try await TestServer.withDatabase { database, recorder in
            let fresh = Person()
            #expect(fresh.hasChanges, "a new document is pending as a whole")
            #expect(fresh.changedFields == [])
            fresh.age = 36
            fresh.name = "Ada"
            fresh.email = nil
            #expect(fresh.changedFields == ["name", "age"], "declaration order; a default is no change")
            try await fresh.insert(into: database)
            #expect(!fresh.hasChanges && fresh.changedFields == [])

            // A stored document another client wrote, with an embedded document whose keys come
            // in another order than the class declares them: reading it changes nothing.
            try await database.collection("Company").insertOne([
                "name": "Engines", "headquarters": ["location": ["longitude": 2.0, "latitude": 1.0], "city": "London"],
                "offices": [["city": "Paris"]], "extra": "kept",
            ])
            let company = try #require(try await Company.objects.using(database).first())
            _ = (company.name, company.headquarters.city, company.headquarters.location.latitude,
                 company.offices.map(\.city), company.billing)
            #expect(!company.hasChanges && company.changedFields == [], "reading every field is not a change")

            company.headquarters.city = "Bath"
            company.name = "Difference Engines"
            #expect(company.hasChanges)
            #expect(company.changedFields == ["name", "headquarters"])
            company.name = "Engines"
            #expect(company.changedFields == ["headquarters"], "setting the stored value back undoes the change")

            recorder.reset()
            try await company.save(in: database)
            let update = try #require(recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue)
            #expect(update["u"] == .document(["$set": ["headquarters.city": "Bath"]]), "exactly the field it named")
            #expect(!company.hasChanges && company.changedFields == [])

            let person = try #require(try await Person.objects.using(database).first())
            person.email = "ada@example.com"
            #expect(person.changedFields == ["mail"], "stored keys, as DocumentError.field")
            try await person.save(in: database)
            person.email = nil
            #expect(person.changedFields == ["mail"], "unsetting a stored value is a change")
            recorder.reset()
            try await person.save(in: database)
            #expect(recorder.commandNames == ["update"])
            #expect(!person.hasChanges)

            let partial = try #require(try await Person.objects.using(database).only(\.$name).all().first)
            _ = try partial.name
            #expect(!partial.hasChanges)
            partial.set(\.name, to: "Ada L.")
            partial.set(\.email, to: nil)
            #expect(partial.changedFields == ["name", "mail"], "nil for a field not loaded unsets it, whatever is stored")
        }
    }
}
