import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Defects found in review, each with the sequence that showed it.
@Suite("Document regressions")
struct RegressionTests {
    @Test("a class with more fields than the stack buffers loads, checks and reads every field")
    func wideClass() throws {
        var stored = BSONDocument()
        try stored.append("_id", .objectID(ObjectID()))
        for index in (0..<33).reversed() { try stored.append("f\(index)", .int64(Int64(index * 10))) }
        var complete = stored
        try complete.append("last", .string("done"))
        let wide = try Wide.decoding(complete)
        #expect(wide.f0 == 0 && wide.f1 == 10 && wide.f31 == 310 && wide.f32 == 320 && wide.last == "done")
        // The required field sits past slot 32: still checked.
        let error = #expect(throws: DocumentError.self) { try Wide.decoding(stored) }
        #expect(error?.kind == .missingRequiredField && error?.field == "last")
        var wrongType = complete
        try wrongType.setValue(.string("x"), forKey: "f32")
        let mismatch = #expect(throws: DocumentError.self) { try Wide.decoding(wrongType) }
        #expect(mismatch?.field == "f32")
    }

    @Test("reads after a save that moved later fields return their own values")
    func readsAfterSaveUseCurrentBytes() async throws {
        try await TestServer.withDatabase { database, _ in
            try await database.collection("Person").insertOne(["name": "Al", "age": .int64(36), "tags": ["x"]])
            let person = try #require(try await Person.objects.using(database).first())
            person.name = "Alexander the Great, of Macedon"
            try await person.save(in: database)
            #expect(person.age == 36 && person.tags == ["x"] && person.name.hasPrefix("Alexander"))
            try await person.upsert(in: database)
            let stored = try #require(try await database.collection("Person").findOne([:]))
            #expect(stored["age"]?.intValue == 36 && stored["tags"] == ["x"])
        }
    }

    @Test("fields of a generic document class are never confused")
    func genericDocumentClass() async throws {
        try await TestServer.withDatabase { database, _ in
            for round in 0..<3 {
                let box = Box<Int>()
                box.first = round
                box.second = "s\(round)"
                box.payload = round * 10
                try await box.insert(into: database)
            }
            let stored = try await database.collection("boxes").find([:], options: FindOptions(sort: ["first": 1])).toArray()
            #expect(stored.map { $0["second"] } == ["s0", "s1", "s2"])
            #expect(stored.map { $0["first"]?.intValue } == [0, 1, 2])
            let loaded = try await Box<Int>.objects.using(database).sort(\.$first).all()
            #expect(loaded.map(\.payload) == [0, 10, 20] && loaded.map(\.second) == ["s0", "s1", "s2"])
        }
    }

    @Test("reading an embedded document keeps its undeclared keys and stored types on save")
    func embeddedUndeclaredKeysSurvive() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await database.collection("Company").insertOne([
                "name": "Acme", "headquarters": ["city": "X", "country": "UK", "location": ["latitude": 1.0, "longitude": 2.0]],
            ])
            let company = try #require(try await Company.objects.using(database).first())
            _ = company.headquarters.city
            recorder.reset()
            try await company.save(in: database)
            #expect(recorder.startedEvents.isEmpty, "a read changes nothing")
            company.headquarters.city = "Y"
            try await company.save(in: database)
            let update = recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue
            #expect(update?["u"] == .document(["$set": ["headquarters.city": "Y"]]))
            let stored = try await database.collection("Company").findOne([:])
            #expect(stored?["headquarters"]?.documentValue?["country"] == "UK")
        }
    }

    @Test("a key path through another property names no field: queries throw instead of guessing")
    func nestedKeyPathsThrow() async throws {
        try await TestServer.withDatabase { database, recorder in
            let companies = Company.objects.using(database)
            recorder.reset()
            for attempt in 0..<3 {
                let error = try await #require(throws: DocumentError.self) {
                    switch attempt {
                    case 0: _ = try await companies.filter(\.headquarters.$city == "London").first()
                    case 1: _ = try await companies.sort(\.headquarters.$city).all()
                    default: try await companies.update(.set(\.headquarters.$city, "x"))
                    }
                }
                #expect(error.kind == .notAField)
            }
            #expect(recorder.startedEvents.isEmpty)
        }
    }

    @Test("a partial document: nil unsets an unloaded field; complete() keeps pending changes; computed properties are not fields")
    func partialEdgeCases() async throws {
        try await TestServer.withDatabase { database, _ in
            let ada = Person()
            ada.name = "Ada"
            ada.age = 36
            ada.email = "ada@example.com"
            try await ada.insert(into: database)
            let partial = try #require(try await Person.objects.using(database).only(\.$name).all().first)
            #expect(throws: DocumentError.self) { _ = try partial.summary }
            partial.set(\.email, to: nil)
            try await partial.save(in: database)
            #expect(try await database.collection("Person").findOne([:])?["mail"] == nil)

            let second = try #require(try await Person.objects.using(database).only(\.$name).all().first)
            second.set(\.name, to: "Ada L.")
            let whole = try await second.complete(from: database)
            #expect(whole.age == 36 && whole.name == "Ada L.")
            try await whole.save(in: database)
            #expect(try await database.collection("Person").findOne([:])?["name"] == "Ada L.")
        }
    }

    @Test("a bulk save that finds a document deleted meanwhile throws notFound")
    func bulkSaveOfDeletedDocument() async throws {
        try await TestServer.withDatabase { database, _ in
            let first = Person()
            let second = Person()
            try await Person.insert([first, second], into: database)
            try await database.collection("Person").deleteOne(["_id": .objectID(try #require(second.id))])
            first.age = 1
            second.age = 2
            let error = try await #require(throws: DocumentError.self) { try await Person.save([first, second], in: database) }
            #expect(error.kind == .notFound)
        }
    }

    @Test("unusable keys, also inside embedded classes or used twice, are refused before sending")
    func invalidKeys() async throws {
        try await TestServer.withDatabase { database, recorder in
            recorder.reset()
            let inner = try await #require(throws: DocumentError.self) { try await HoldsBadInner().insert(into: database) }
            #expect(inner.kind == .invalidFieldKey && inner.field == "inner.a.b")
            let twice = try await #require(throws: DocumentError.self) { try await TwoFieldsOneKey().insert(into: database) }
            #expect(twice.kind == .invalidFieldKey && twice.field == "k")
            #expect(recorder.startedEvents.isEmpty)
            // A recursive embedded class is walked once and saves normally.
            let tree = Tree()
            let child = TreeNode()
            child.label = "leaf"
            tree.root.children = [child]
            try await tree.insert(into: database)
            let loaded = try #require(try await Tree.objects.using(database).first())
            #expect(loaded.root.children.map(\.label) == ["leaf"])
        }
    }

    @Test("a class that hides its fields from Mirror gets typed errors, never a crash")
    func customReflectableDocument() async throws {
        let mirrorless = Mirrorless()
        mirrorless.name = "kept nowhere"
        #expect(mirrorless.name == "")
        try await TestServer.withDatabase { database, recorder in
            await #expect { try await mirrorless.insert(into: database) } throws: { error in
                (error as? DocumentError)?.kind == .notAField
            }
            #expect(recorder.count(of: "insert") == 0)
        }
        #expect(throws: DocumentError.self) { try Mirrorless.decoding(["name": "x"]) }
        await #expect { try await Mirrorless.objects.first() } throws: { error in
            (error as? DocumentError)?.kind == .notAField
        }
    }

    @Test("tracing a key path whose getter traces another class's key path does not deadlock")
    func nestedKeyPathTracing() {
        // `summary` builds a predicate on Person (which traces `\Person.$age`) while `\.summary`
        // itself is being traced on Squad's prototype.
        let partial = Squad.objects.only(\.summary)
        #expect(partial.projectionDocument == ["title": 1])
    }

    @Test("a key path's first use from several threads at once names the right field")
    func concurrentFirstKeyPathUse() async {
        let documents = (0..<8).map { index in Squad().with { $0.title = "t\(index)"; $0.motto = "m\(index)" } }
        let transfer = documents.map { UncheckedTransfer($0) }
        let mottos = await withTaskGroup(of: String.self) { group in
            for box in transfer { group.addTask { box.value.motto } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(mottos) == Set((0..<8).map { "m\($0)" }))
    }
}

final class Squad: Document {
    @Field var title = ""
    @Field var motto = ""
    var summary: String {
        _ = Person.objects.filter(\.$age > 1)
        return title
    }
}

/// Replaces its `Mirror`, which is how Tendril reads field declarations.
final class Mirrorless: Document, CustomReflectable {
    @Field var name = ""
    var customMirror: Mirror { Mirror(self, children: []) }
}

/// More fields than loading keeps on the stack (32): its offsets take the heap path, and more
/// than 12 are not packed into the document.
final class Wide: Document {
    @Field var f0: Int = 0
    @Field var f1: Int = 0
    @Field var f2: Int = 0
    @Field var f3: Int = 0
    @Field var f4: Int = 0
    @Field var f5: Int = 0
    @Field var f6: Int = 0
    @Field var f7: Int = 0
    @Field var f8: Int = 0
    @Field var f9: Int = 0
    @Field var f10: Int = 0
    @Field var f11: Int = 0
    @Field var f12: Int = 0
    @Field var f13: Int = 0
    @Field var f14: Int = 0
    @Field var f15: Int = 0
    @Field var f16: Int = 0
    @Field var f17: Int = 0
    @Field var f18: Int = 0
    @Field var f19: Int = 0
    @Field var f20: Int = 0
    @Field var f21: Int = 0
    @Field var f22: Int = 0
    @Field var f23: Int = 0
    @Field var f24: Int = 0
    @Field var f25: Int = 0
    @Field var f26: Int = 0
    @Field var f27: Int = 0
    @Field var f28: Int = 0
    @Field var f29: Int = 0
    @Field var f30: Int = 0
    @Field var f31: Int = 0
    @Field var f32: Int = 0
    @Field(.required) var last: String?
}
