import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Projections: partial documents, values and scalars")
struct ProjectionTests {
    private func seedAda(_ database: MongoDatabase) async throws -> ObjectID {
        let ada = Person()
        ada.name = "Ada"
        ada.age = 36
        ada.tags = ["math"]
        ada.email = "ada@example.com"
        try await ada.insert(into: database)
        return try #require(ada.id)
    }

    @Test("only() loads the named fields; reading another throws; saving never touches the rest")
    func onlyLoadsNamedFields() async throws {
        try await TestServer.withDatabase { database, recorder in
            let id = try await seedAda(database)
            recorder.reset()
            let partials = try await Person.objects.using(database).only(\.$name, \.email).all()
            #expect(recorder.commands(named: "find").first?["projection"] == .document(["name": 1, "mail": 1]))
            let ada = try #require(partials.first)
            #expect(try ada.name == "Ada" && ada.email == "ada@example.com" && ada.id == id)
            #expect(ada.loadedKeys == ["name", "mail"])
            let error = #expect(throws: DocumentError.self) { _ = try ada.age }
            #expect(error?.kind == .notLoaded && error?.field == "age")

            recorder.reset()
            ada.set(\.tags, to: ["poetry"])
            try await ada.save(in: database)
            let update = recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue
            #expect(update?["u"] == .document(["$set": ["tags": ["poetry"]]]))
            let stored = try #require(try await database.collection("Person").findOne(["_id": .objectID(id)]))
            #expect(stored["age"]?.intValue == 36 && stored["name"] == "Ada" && stored["tags"] == ["poetry"])

            let whole = try await ada.complete(from: database)
            #expect(whole.age == 36)
        }
    }

    @Test("exclude() loads everything but the named fields")
    func excludeLeavesOut() async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedAda(database)
            recorder.reset()
            let ada = try #require(try await Person.objects.using(database).exclude(\.$tags, \.$scores).all().first)
            #expect(recorder.commands(named: "find").first?["projection"] == .document(["tags": 0, "scores": 0]))
            #expect(try ada.age == 36)
            #expect(throws: DocumentError.self) { _ = try ada.tags }
        }
    }

    @Test("values() and scalar() return plain values and create no documents")
    func valuesWithoutDocuments() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await database.collection("Counted").insertMany((0..<300).map { ["n": .int64(Int64($0))] })
            let people = Person.objects.using(database)
            _ = try await seedAda(database)
            try await database.collection("Person").insertOne(["name": "Bare"])

            _ = Counted.objects.scalar(\.$n)   // builds the schema (and its one prototype) first
            let before = Counted.live.load(ordering: .relaxed)
            recorder.reset()
            let numbers = try await Counted.objects.using(database).batchSize(100).scalar(\.$n).all()
            #expect(numbers.count == 300 && numbers.reduce(0, +) == 299 * 300 / 2)
            #expect(Counted.live.load(ordering: .relaxed) == before)
            #expect(recorder.commands(named: "find").first?["projection"] == .document(["n": 1]))

            let rows = try await people.sort(\.$name).values(\.$name, \.$age, \.$email).all()
            #expect(rows.map(\.0) == ["Ada", "Bare"])
            #expect(rows.map(\.1) == [36, 0], "absent fields read as their default")
            #expect(rows.map(\.2) == ["ada@example.com", nil])

            try await database.collection("Person").insertOne(["name": 7])
            await #expect(throws: DocumentError.self) { _ = try await people.scalar(\.$name).all() }
        }
    }
}
