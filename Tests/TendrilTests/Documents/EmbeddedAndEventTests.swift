import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Embedded documents, events and bulk operations")
struct EmbeddedAndEventTests {
    @Test("embedded documents at depth 3 round-trip, and a change deep inside sets only its path")
    func embeddedDepthThree() async throws {
        try await TestServer.withDatabase { database, recorder in
            let company = Company()
            company.name = "Analytical Engines"
            company.headquarters.city = "London"
            company.headquarters.location.latitude = 51.5
            let office = Address()
            office.city = "Paris"
            company.offices = [office]
            try await company.insert(into: database)

            let loaded = try #require(try await Company.objects.using(database).first())
            #expect(loaded.headquarters.city == "London" && loaded.headquarters.location.latitude == 51.5)
            #expect(loaded.offices.map(\.city) == ["Paris"] && loaded.billing == nil)
            #expect(loaded.headquarters === loaded.headquarters, "the same object on every read")

            recorder.reset()
            loaded.headquarters.location.longitude = -0.12
            loaded.headquarters.zip = "EC1"
            try await loaded.save(in: database)
            let update = recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue
            // Paths come in the stored document's order; the new `zip` key comes last.
            #expect(update?["u"] == .document(["$set": [
                "headquarters.location.longitude": -0.12, "headquarters.zip": "EC1",
            ]]))

            recorder.reset()
            loaded.offices.append(Address())
            loaded.billing = Address()
            loaded.billing?.city = "Bath"
            try await loaded.save(in: database)
            let second = recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue
            let sets = second?["u"]?.documentValue?["$set"]?.documentValue
            #expect(sets?.keys == ["offices", "billing"], "arrays and new embedded documents are set whole")

            let reloaded = try #require(try await Company.objects.using(database).first())
            #expect(reloaded.headquarters.location.longitude == -0.12 && reloaded.headquarters.zip == "EC1")
            #expect(reloaded.offices.count == 2 && reloaded.billing?.city == "Bath")
        }
    }

    @Test("a wrong type inside an embedded document is an error naming the embedding field")
    func embeddedTypeMismatch() async throws {
        try await TestServer.withDatabase { database, _ in
            try await database.collection("Company").insertOne(["headquarters": ["city": 12]])
            let error = try await #require(throws: DocumentError.self) {
                _ = try await Company.objects.using(database).first()
            }
            #expect(error.field == "headquarters")
            #expect(error.kind == .typeMismatch(expected: "object (Address)", found: "object"))
        }
    }

    @Test("the six events run around inserts, updates and deletes; a throwing before-hook cancels the write")
    func events() async throws {
        try await TestServer.withDatabase { database, recorder in
            let log = Locked<[String]>([])
            var registrations: [EventRegistration] = []
            for event in DocumentEvent.allCases {
                registrations.append(Audited.on(event) { documents in
                    log.withLock { $0.append("\(event) \(documents.map(\.name))") }
                })
            }
            registrations.append(Audited.on(.beforeUpdate) { documents in
                for document in documents { document.version += 1 }
            })
            let item = Audited()
            item.name = "a"
            try await item.insert(into: database)
            item.name = "b"
            try await item.save(in: database)
            try await item.delete(from: database)
            #expect(log.withLock { $0 } == [
                "beforeInsert [\"a\"]", "afterInsert [\"a\"]", "beforeUpdate [\"b\"]",
                "afterUpdate [\"b\"]", "beforeDelete [\"b\"]", "afterDelete [\"b\"]",
            ])
            #expect(item.version == 1, "a before-hook's change is saved with the update")

            struct Refused: Error {}
            let refusal = Audited.on(.beforeInsert) { _ in throw Refused() }
            recorder.reset()
            let blocked = Audited()
            await #expect(throws: Refused.self) { try await blocked.insert(into: database) }
            #expect(blocked.isNew)
            #expect(recorder.startedEvents.isEmpty, "the cancelled insert sent nothing")
            refusal.remove()
            registrations.forEach { $0.remove() }
            try await blocked.insert(into: database)
            #expect(try await Audited.objects.using(database).count() == 1)
        }
    }

    @Test("a save with nothing to send still runs afterUpdate after beforeUpdate, single and bulk")
    func hooksComeInPairs() async throws {
        try await TestServer.withDatabase { database, recorder in
            let log = Locked<[String]>([])
            let registrations = [DocumentEvent.beforeUpdate, .afterUpdate].map { event in
                Quiet.on(event) { documents in log.withLock { $0.append("\(event) \(documents.map(\.name))") } }
            }
            defer { registrations.forEach { $0.remove() } }
            let a = Quiet(), b = Quiet()
            a.name = "a"
            b.name = "b"
            try await Quiet.insert([a, b], into: database)
            recorder.reset()

            try await a.save(in: database)
            #expect(recorder.commandNames == [], "nothing changed: nothing sent")
            b.name = "b2"
            try await Quiet.save([a, b], in: database)
            #expect(recorder.commandNames == ["update"])
            recorder.reset()
            try await Quiet.save([a, b], in: database)
            #expect(recorder.commandNames == [])
            #expect(log.withLock { $0 } == [
                "beforeUpdate [\"a\"]", "afterUpdate [\"a\"]",
                "beforeUpdate [\"a\", \"b2\"]", "afterUpdate [\"a\", \"b2\"]",
                "beforeUpdate [\"a\", \"b2\"]", "afterUpdate [\"a\", \"b2\"]",
            ])
        }
    }

    @Test("bulk insert, save and delete of many documents each take one round trip")
    func bulkOperations() async throws {
        try await TestServer.withDatabase { database, recorder in
            let people = (0..<5).map { index -> Person in
                let person = Person()
                person.name = "P\(index)"
                return person
            }
            recorder.reset()
            try await Person.insert(people, into: database)
            #expect(recorder.commandNames == ["insert"])
            #expect(people.allSatisfy { !$0.isNew && $0.id != nil })

            people[0].age = 10
            people[1].age = 11
            let newcomer = Person()
            newcomer.name = "New"
            recorder.reset()
            try await Person.save(people + [newcomer], in: database)
            #expect(recorder.commandNames == ["insert", "update"], "one bulk write: the insert and both updates")
            #expect(recorder.commands(named: "update").first?["updates"]?.arrayValue?.count == 2)
            #expect(try await Person.objects.using(database).filter(\.$age > 0).count() == 2)

            recorder.reset()
            try await Person.delete(Array(people.prefix(3)), from: database)
            #expect(recorder.commandNames == ["delete"])
            #expect(try await Person.objects.using(database).count() == 3)
        }
    }
}
