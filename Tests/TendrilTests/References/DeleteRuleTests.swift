import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("References: delete rules")
struct DeleteRuleTests {
    init() {
        DeleteRules.register(Essay.self, Book.self, Review.self, Contract.self, Grant.self)
    }

    @Test("nullify unsets single references and dictionary entries; pull removes ids from lists; nothing leaves them")
    func nullifyAndPull() async throws {
        try await TestServer.withDatabase { database, _ in
            let ada = Writer().with { $0.name = "Ada" }, alan = Writer().with { $0.name = "Alan" }
            try await Writer.insert([ada, alan], into: database)
            let essay = try Essay().with { essay in
                essay.title = "On engines"
                try essay.$editor.set(ada)
                try essay.$coauthors.set([alan, ada, alan, ada])
                try essay.$roles.set(ada, forKey: "reviewer")
                try essay.$roles.set(alan, forKey: "author")
                try essay.$mentioned.set(ada)
            }
            try await essay.insert(into: database)
            try await ada.delete(from: database)

            let stored = try #require(try await database.collection("Essay").findOne([:]))
            let alanID = try alan.id.unwrapped()
            #expect(stored["editor"] == nil)
            // nx-27017 does not match ObjectIds inside arrays: see docs/server-compatibility.md.
            withKnownIssue("nx-27017: {list: {$in: [id]}} does not match an ObjectId inside an array") {
                #expect(stored["coauthors"] == [.objectID(alanID), .objectID(alanID)])
            } when: { TestServer.isNX }
            #expect(stored["roles"] == ["author": .objectID(alanID)])
            #expect(stored["mentioned"] == .objectID(try ada.id.unwrapped()), "no rule: the reference dangles")
            let reloaded = try await Essay.objects.using(database).first().unwrapped()
            #expect(throws: DocumentError.self) { try reloaded.$mentioned.blockingValue() }
        }
    }

    @Test("cascade deletes referencing documents, and theirs in turn")
    func cascade() async throws {
        try await TestServer.withDatabase { database, _ in
            let kept = Publisher().with { $0.name = "kept" }, gone = Publisher().with { $0.name = "gone" }
            try await Publisher.insert([kept, gone], into: database)
            let books = try (0..<4).map { index in
                try Book().with { $0.title = "book \(index)"; try $0.$publisher.set(index < 3 ? gone : kept) }
            }
            try await Book.insert(books, into: database)
            let reviews = try books.map { book in try Review().with { $0.text = "fine"; try $0.$book.set(book) } }
            try await Review.insert(reviews, into: database)

            try await gone.delete(from: database)
            #expect(try await Publisher.objects.using(database).count() == 1)
            #expect(try await Book.objects.using(database).all().map(\.title) == ["book 3"])
            #expect(try await Review.objects.using(database).count() == 1)
            // A query delete applies the same rules.
            try await Publisher.objects.using(database).delete()
            #expect(try await Book.objects.using(database).count() == 0)
            #expect(try await Review.objects.using(database).count() == 0)
        }
    }

    @Test("deny refuses the delete with a clear error and changes nothing")
    func deny() async throws {
        try await TestServer.withDatabase { database, _ in
            let signer = Signer().with { $0.name = "Grace" }, free = Signer().with { $0.name = "Free" }
            try await Signer.insert([signer, free], into: database)
            let contract = try Contract().with { $0.title = "lease"; try $0.$signer.set(signer) }
            try await contract.insert(into: database)
            await #expect { try await signer.delete(from: database) } throws: { error in
                guard let error = error as? DocumentError else { return false }
                return error.kind == .deleteDenied(referencedBy: "Contract") && error.collection == "Signer"
                    && error.field == "signer" && error.documentID == signer.id.map(BSONValue.objectID)
            }
            await #expect(throws: DocumentError.self) { try await Signer.delete([signer, free], from: database) }
            await #expect(throws: DocumentError.self) { try await Signer.objects.using(database).delete() }
            #expect(try await Signer.objects.using(database).count() == 2, "nothing was deleted")
            #expect(!signer.isNew)

            try await free.delete(from: database)
            try await contract.delete(from: database)
            try await signer.delete(from: database)
            #expect(try await Signer.objects.using(database).count() == 0)
        }
    }

    @Test("a before-delete hook that throws cancels a delete that rules point at with nothing sent, single and bulk")
    func cancelledDeleteSendsNothing() async throws {
        try await TestServer.withDatabase { database, recorder in
            let first = Sponsor().with { $0.name = "first" }, second = Sponsor().with { $0.name = "second" }
            try await Sponsor.insert([first, second], into: database)
            struct Refused: Error {}
            let refusal = Sponsor.on(.beforeDelete) { _ in throw Refused() }
            recorder.reset()
            await #expect(throws: Refused.self) { try await first.delete(from: database) }
            await #expect(throws: Refused.self) { try await Sponsor.delete([first, second], from: database) }
            #expect(recorder.commandNames == [], "not even the deny rule's find")
            refusal.remove()

            try await first.delete(from: database)
            #expect(recorder.commandNames == ["find", "delete"], "the deny rule's check, then the delete")
            #expect(recorder.commands(named: "find").first?["filter"] == ["sponsor": ["$in": [.objectID(try first.id.unwrapped())]]])
            recorder.reset()
            try await Sponsor.delete([second], from: database)
            #expect(recorder.commandNames == ["find", "delete"])
            #expect(try await Sponsor.objects.using(database).count() == 0)
        }
    }
}
