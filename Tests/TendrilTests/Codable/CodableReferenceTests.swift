import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Codable: references as ids, embedded on request, and updates from JSON")
struct CodableReferenceTests {
    @Test("references encode as their ids, resolved or not, cached or evicted", arguments: [CachePolicy.strong, .none, .lru(capacity: 1), .weak])
    func referencesAreIDsWhateverTheCacheHolds(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(policy).get(parentID).unwrapped()
            parent.bestFriend = friendIDs[2]
            parent.roles = ["lead": friendIDs[0]]
            let unresolved = try encodedJSON(parent)
            let hex = friendIDs.map(\.hex)
            #expect(unresolved.contains(#""friends":["\#(hex[0])","\#(hex[1])","\#(hex[2])"]"#))
            #expect(unresolved.contains(#""bestFriend":"\#(hex[2])""#))
            #expect(unresolved.contains(#""roles":{"lead":"\#(hex[0])"}"#))

            recorder.reset()
            _ = try await parent.$friends.values
            _ = try await parent.$bestFriend.value
            _ = try await parent.$roles.values
            #expect(try encodedJSON(parent) == unresolved, "resolving changes nothing")
            parent.$friends.evict()
            parent.$bestFriend.evict()
            #expect(try encodedJSON(parent) == unresolved, "evicting changes nothing")
            parent.referenceCache.clear()
            #expect(try encodedJSON(parent) == unresolved)
            let sent = recorder.count(of: "find")
            _ = try encodedJSON(parent)
            #expect(recorder.count(of: "find") == sent, "encoding never fetches")
        }
    }

    @Test("references decode from hex ids, unresolved; bad ids are typed errors")
    func referencesDecodeFromIDs() throws {
        let (first, second) = (ObjectID(), ObjectID())
        let pal = try decoded(Pal.self, #"{"name":"P","bestFriend":"\#(first.hex)","friends":["\#(first.hex)","\#(second.hex)"],"roles":{"qa":"\#(second.hex)"}}"#)
        #expect(pal.bestFriend == first && pal.friends == [first, second] && pal.roles == ["qa": second])
        #expect(pal.referenceCache.statistics.residentCount == 0)

        let unset = try decoded(Pal.self, #"{"bestFriend":null,"friends":[]}"#)
        #expect(unset.bestFriend == nil && unset.friends.isEmpty)

        let badList = documentError { _ = try decoded(Pal.self, #"{"friends":["\#(first.hex)","nope"]}"#) }
        #expect(badList?.kind == .typeMismatch(expected: "objectId", found: #"string "nope""#) && badList?.field == "friends[1]")
        let badSingle = documentError { _ = try decoded(Pal.self, #"{"bestFriend":42}"#) }
        #expect(badSingle?.kind == .typeMismatch(expected: "objectId", found: "number 42"))
        let badDictionary = documentError { _ = try decoded(Pal.self, #"{"roles":{"qa":true}}"#) }
        #expect(badDictionary?.field == #"roles["qa"]"#)
    }

    @Test("embeddingReferences embeds resolved documents, in one batched fetch, one level deep")
    func embeddingResolvedReferences() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            parent.bestFriend = friendIDs[1]
            parent.roles = ["qa": friendIDs[2], "lead": friendIDs[0]]
            let plain = try encodedJSON(parent)
            recorder.reset()
            let body = try await parent.embeddingReferences(\.$friends, \.$bestFriend, \.$roles)
            #expect(recorder.count(of: "find") <= 3, "one query per field at most")
            let json = try encodedJSON(body)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let friends = try #require(object["friends"] as? [[String: Any]])
            #expect(friends.compactMap { $0["name"] as? String } == ["friend 0", "friend 1", "friend 2"])
            #expect(friends.compactMap { $0["id"] as? String } == friendIDs.map(\.hex))
            #expect((object["bestFriend"] as? [String: Any])?["name"] as? String == "friend 1")
            let roles = try #require(object["roles"] as? [String: [String: Any]])
            #expect(roles["lead"]?["name"] as? String == "friend 0" && roles["qa"]?["name"] as? String == "friend 2")
            #expect(friends.first?["friends"] as? [Any] != nil, "embedded documents keep their own references as ids")
            #expect(try encodedJSON(parent) == plain, "the document alone still encodes ids")

            let unset = Pal()
            #expect(try encodedJSON(try await unset.embeddingReferences(\.$bestFriend)).contains(#""bestFriend":null"#))
        }
    }

    @Test("embedding a dangling reference or a key path to no reference is an error")
    func embeddingErrors() async throws {
        try await TestServer.withDatabase { database, _ in
            let (parentID, friendIDs) = try await PalFixture.seed(2, in: database)
            try await database.collection("Pal").deleteOne(["_id": .objectID(friendIDs[1])])
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            await #expect { _ = try await parent.embeddingReferences(\.$friends) } throws: { error in
                (error as? DocumentError)?.kind == .danglingReference
            }
            await #expect { _ = try await parent.embeddingReferences(\.name) } throws: { error in
                (error as? DocumentError)?.kind == .notAField
            }
        }
    }

    @Test("a decoded document inserts; applied to a loaded one, it saves only what the JSON changed")
    func decodedDocumentsSave() async throws {
        try await TestServer.withDatabase { database, recorder in
            let id = ObjectID()
            let created = try decoded(Pal.self, #"{"id":"\#(id.hex)","name":"Ada","age":36}"#)
            #expect(created.isNew)
            try await created.insert(into: database)
            let stored = try await Pal.objects.using(database).get(id).unwrapped()
            #expect(stored.name == "Ada" && stored.age == 36 && stored.tags.isEmpty)

            let body = try decoded(Pal.self, #"{"id":"\#(ObjectID().hex)","age":37}"#)
            stored.apply(changesFrom: body)
            recorder.reset()
            try await stored.save(in: database)
            let update = try #require(recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue)
            #expect(update["u"] == .document(["$set": ["age": .int64(37)]]), "the id in the body is ignored, name untouched")
            #expect(stored.id == id)
        }
    }
}
