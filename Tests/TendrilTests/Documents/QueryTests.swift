import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Queries")
struct QueryTests {
    /// Inserts Ada (36, math), Alan (41, math+logic), Grace (85, navy), Linus (28, no tags, email).
    private func seed(_ database: MongoDatabase) async throws {
        for (name, age, tags) in [("Ada", 36, ["math"]), ("Alan", 41, ["math", "logic"]), ("Grace", 85, ["navy"]), ("Linus", 28, [])] {
            let person = Person()
            person.name = name
            person.age = age
            person.tags = tags
            if name == "Linus" { person.email = "linus@example.com" }
            try await person.insert(into: database)
        }
    }

    private func names(_ query: Query<Person>) async throws -> [String] {
        try await query.sort(\.$name).all().map(\.name)
    }

    @Test("typed filters: comparison, in, exists, regex, arrays, and/or/not")
    func typedFilters() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await seed(database)
            let people = Person.objects.using(database)
            #expect(try await names(people.filter(\.$age > 40)) == ["Alan", "Grace"])
            #expect(try await names(people.filter(\.$age >= 41 && \.$age < 85)) == ["Alan"])
            #expect(try await names(people.filter(\.$name == "Ada" || \.$age <= 28)) == ["Ada", "Linus"])
            #expect(try await names(people.filter(\.$name != "Ada")) == ["Alan", "Grace", "Linus"])
            #expect(try await names(people.filter(.in(\.$name, ["Ada", "Grace", "Nobody"]))) == ["Ada", "Grace"])
            #expect(try await names(people.filter(.notIn(\.$age, [36, 41]))) == ["Grace", "Linus"])
            #expect(try await names(people.filter(.exists(\.$email))) == ["Linus"])
            #expect(try await names(people.filter(.exists(\.$email, false))) == ["Ada", "Alan", "Grace"])
            #expect(try await names(people.filter(\.$email == nil)) == ["Ada", "Alan", "Grace"])
            #expect(try await names(people.filter(.matches(\.$name, "^a", options: "i"))) == ["Ada", "Alan"])
            #expect(try await names(people.filter(.contains(\.$tags, "math"))) == ["Ada", "Alan"])
            #expect(try await names(people.filter(.containsAll(\.$tags, ["logic", "math"]))) == ["Alan"])
            #expect(try await names(people.filter(.size(\.$tags, 0))) == ["Linus"])
            #expect(try await names(people.filter(!(\.$age > 30))) == ["Linus"])
            #expect(try await names(people.filter(\.$age > 30).filter(.contains(\.$tags, "math"))) == ["Ada", "Alan"])
            #expect(try await names(people.filter(raw: ["age": ["$mod": [2, 1]]])) == ["Alan", "Grace"])
            // The filter sent uses the stored key and explicit operators.
            recorder.reset()
            _ = try await people.filter(\.$email == "x").first()
            #expect(recorder.commands(named: "find").first?["filter"] == .document(["mail": ["$eq": "x"]]))
        }
    }

    @Test("a user value shaped like an operator matches literally, never everything")
    func operatorInjection() async throws {
        try await TestServer.withDatabase { database, _ in
            try await seed(database)
            let people = Person.objects.using(database)
            let hostile: [String: Double] = ["$ne": 0]
            try await withKnownIssue("nx-27017 cannot compare with a document value") {
                let matches = try await people.filter(\.$scores == hostile).count()
                #expect(matches == 0)
            } when: { TestServer.isNX }
            #expect(try await people.filter(\.$name == "{\"$ne\": null}").count() == 0)
            #expect(try await people.filter(.in(\.$name, ["$where", "$ne"])).count() == 0)
        }
    }

    @Test("sort, skip, limit, first, get, count and exists")
    func pagingAndTerminals() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await seed(database)
            let people = Person.objects.using(database)
            #expect(try await people.sort(\.$age, .descending).all().map(\.name) == ["Grace", "Alan", "Ada", "Linus"])
            #expect(try await people.sort(\.$age).skip(1).limit(2).all().map(\.name) == ["Ada", "Alan"])
            #expect(try await people.sort(\.$age).first()?.name == "Linus")
            #expect(try await people.filter(\.$age > 100).first() == nil)
            let grace = try #require(try await people.filter(\.$name == "Grace").first())
            #expect(try await people.get(try #require(grace.id))?.name == "Grace")
            #expect(try await people.get(ObjectID()) == nil)
            #expect(try await people.count() == 4)
            #expect(try await people.filter(\.$age > 30).count() == 3)
            #expect(try await people.skip(1).limit(2).count() == 2)
            #expect(try await people.filter(\.$age > 30).exists())
            #expect(try await !people.filter(\.$age > 300).exists())
            recorder.reset()
            let query = people.filter(\.$age > 30).sort(\.$name).limit(2)
            #expect(recorder.startedEvents.isEmpty, "building a query sends nothing")
            _ = try await query.all()
            #expect(recorder.commandNames == ["find"])
        }
    }

    @Test("update and delete act on the whole matched set in one command")
    func updateAndDeleteMatches() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await seed(database)
            let people = Person.objects.using(database)
            recorder.reset()
            let changed = try await people.filter(\.$age > 40).update(.increment(\.$age, by: 1), .push(\.$tags, "senior"), .unset(\.$email))
            #expect(changed == 2)
            #expect(recorder.commandNames == ["update"])
            #expect(try await people.filter(.contains(\.$tags, "senior")).sort(\.$age).all().map(\.age) == [42, 86])
            #expect(try await people.filter(\.$age < 30).update(.set(\.$name, "Linus T.")) == 1)
            #expect(try await people.filter(\.$age > 40).delete() == 2)
            #expect(try await names(people) == ["Ada", "Linus T."])
        }
    }

    @Test("the class's database comes from DefaultDatabase unless the query says")
    func defaultDatabase() async throws {
        try await TestServer.withDatabase { database, _ in
            let account = Account()
            account.email = "a@example.com"
            await #expect(throws: DocumentError.self) { try await Account.objects.count() }
            try await account.insert(into: database)
            #expect(try await Account.objects.using(database).count() == 1)
            #expect(try await database.collection("accounts").countDocuments() == 1, "collectionName override")
        }
    }
}
