import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("References: fields, resolution and errors")
struct ReferenceTests {
    @Test("references are stored as ObjectIds, set from documents or ids")
    func storedAsObjectIDs() async throws {
        try await TestServer.withDatabase { database, recorder in
            let ada = Pal(), alan = Pal(), grace = Pal()
            ada.name = "Ada"; alan.name = "Alan"; grace.name = "Grace"
            try await Pal.insert([ada, alan], into: database)
            try grace.$bestFriend.set(ada)
            try grace.$friends.append(ada)
            grace.friends.append(try alan.id.unwrapped())
            try grace.$roles.set(alan, forKey: "mentor")
            recorder.reset()
            try await grace.insert(into: database)
            let inserted = try #require(recorder.commands(named: "insert").first?["documents"]?.arrayValue?.first?.documentValue)
            let (adaID, alanID) = (try ada.id.unwrapped(), try alan.id.unwrapped())
            #expect(inserted["bestFriend"] == .objectID(adaID))
            #expect(inserted["friends"] == [.objectID(adaID), .objectID(alanID)])
            #expect(inserted["roles"] == ["mentor": .objectID(alanID)])

            // Changes are tracked like any field: only the reference that changed is sent.
            let loaded = try await Pal.objects.using(database).get(grace.id.unwrapped()).unwrapped()
            try loaded.$bestFriend.set(alan)
            recorder.reset()
            try await loaded.save(in: database)
            let update = try #require(recorder.commands(named: "update").first?["updates"]?.arrayValue?.first?.documentValue)
            #expect(update["u"] == .document(["$set": ["bestFriend": .objectID(alanID)]]))
        }
    }

    @Test("an unsaved document cannot be referenced")
    func unsavedTargetIsRefused() throws {
        let grace = Pal(), draft = Pal()
        #expect { try grace.$bestFriend.set(draft) } throws: { error in
            (error as? DocumentError)?.kind == .notInserted
        }
        #expect(grace.bestFriend == nil && grace.isNew)
    }

    @Test("unset references are nil or empty, not errors; each shape resolves")
    func unsetAndResolved() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            recorder.reset()
            #expect(try await parent.$bestFriend.value == nil)
            #expect(try await parent.$bestFriend.value == nil)
            #expect(try await parent.$roles.values.isEmpty)
            #expect(try await parent.$roles.value(forKey: "lead") == nil)
            #expect(recorder.startedEvents.isEmpty, "nothing to fetch")

            parent.bestFriend = friendIDs[1]
            parent.roles = ["lead": friendIDs[0], "qa": friendIDs[2]]
            #expect(try await parent.$bestFriend.value?.name == "friend 1")
            #expect(try await parent.$bestFriend.value?.name == "friend 1")
            #expect(try await parent.$roles.value(forKey: "qa")?.name == "friend 2")
            let roles = try await parent.$roles.values
            #expect(roles.mapValues(\.name) == ["lead": "friend 0", "qa": "friend 2"])
            var names: [String] = []
            for try await friend in parent.$friends { names.append(friend.name) }
            #expect(names == ["friend 0", "friend 1", "friend 2"])
            #expect(try await parent.$friends.values.count == 3)
            #expect(try await parent.$friends.value(at: 2).name == "friend 2")
            #expect(recorder.count(of: "find") == 3, "each friend fetched once, then served from the cache")
        }
    }

    @Test("a dangling reference is its own error, naming collection and id, remembered until clear()")
    func danglingReference() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            try await database.collection("Pal").deleteOne(["_id": .objectID(friendIDs[1])])
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            parent.bestFriend = friendIDs[1]
            recorder.reset()
            for _ in 0..<3 {
                #expect { try parent.$bestFriend.blockingValue() } throws: { error in
                    guard let error = error as? DocumentError else { return false }
                    return error.kind == .danglingReference && error.collection == "Pal"
                        && error.documentID == .objectID(friendIDs[1]) && error.field == "bestFriend"
                }
            }
            #expect(recorder.count(of: "find") == 1, "the dangling id is remembered")
            #expect(parent.referenceCache.statistics.danglingCount == 1)
            // In a list, the whole resolution names the first dangling id.
            #expect { try parent.$friends.blockingValues() } throws: { error in
                (error as? DocumentError)?.documentID == .objectID(friendIDs[1])
            }
            #expect(try await parent.$friends.value(at: 2).name == "friend 2")
            #expect { try parent.$friends.blockingValue(at: 3) } throws: { error in
                (error as? DocumentError)?.kind == .indexOutOfRange(index: 3, count: 3)
            }
            parent.referenceCache.clear()
            #expect(parent.referenceCache.statistics.danglingCount == 0)
            recorder.reset()
            _ = try? await parent.$bestFriend.value
            #expect(recorder.count(of: "find") == 1, "after clear() the id is asked for again")
        }
    }

    @Test("blockingValue(at:) reads the id in place, and sees the list's unsaved changes")
    func resolveAtReadsInPlace() async throws {
        try await TestServer.withDatabase { database, _ in
            let (parentID, friendIDs) = try await PalFixture.seed(12, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            for index in [0, 9, 10, 11] {
                #expect(try await parent.$friends.value(at: index).id == friendIDs[index])
            }
            #expect(throws: DocumentError.self) { try parent.$friends.blockingValue(at: 12) }
            #expect(throws: DocumentError.self) { try parent.$friends.blockingValue(at: -1) }
            parent.friends.insert(friendIDs[5], at: 0)
            #expect(try await parent.$friends.value(at: 0).id == friendIDs[5])
            #expect(try await parent.$friends.value(at: 12).id == friendIDs[11])
        }
    }

    @Test("a document loaded through using(db) saves, reloads and deletes in db by default")
    func documentsRememberTheirDatabase() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(1, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            parent.name = "renamed"
            try await parent.save()
            try await parent.reload()
            #expect(parent.name == "renamed")
            #expect(recorder.commands(named: "update").first?["$db"]?.stringValue == database.name)
            try await parent.delete()
            #expect(try await Pal.objects.using(database).get(parentID) == nil)
        }
    }

    @Test("a failed fetch throws the driver's typed error and keeps nothing")
    func failedFetchThrows() async throws {
        // A server nobody listens on: connection refused, reported by libmongoc.
        let client = try MongoClient("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200")
        let database = client.database("unreachable")
        let parent = Pal()
        parent.bestFriend = ObjectID()
        parent.adoptDatabase(database)
        #expect(throws: MongoError.self) { try parent.$bestFriend.blockingValue() }
        let stats = parent.referenceCache.statistics
        #expect(stats.residentCount == 0 && stats.danglingCount == 0 && stats.queries == 1)
    }

    @Test("a stored reference of the wrong type is a type error on load")
    func wrongStoredType() async throws {
        try await TestServer.withDatabase { database, _ in
            try await database.collection("Pal").insertOne(["name": "odd", "friends": ["not an id"]])
            _ = await #expect { try await Pal.objects.using(database).first() } throws: { error in
                guard let error = error as? DocumentError, case .typeMismatch(let expected, let found) = error.kind else { return false }
                return error.field == "friends" && expected == "array of objectId" && found == "array"
            }
        }
    }

    @Test("per access: noCache() keeps nothing it fetches but serves what is kept")
    func perAccessNoCache() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(10, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            _ = try await parent.$friends.value(at: 0)
            recorder.reset()
            var count = 0
            for try await _ in parent.$friends.noCache() { count += 1 }
            #expect(count == 10)
            #expect(recorder.count(of: "find") == 1, "one window; friend 0 was kept already")
            #expect(recorder.commands(named: "find").first?["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count == 9)
            #expect(parent.referenceCache.statistics.residentCount == 1)
            _ = try await parent.$friends.noCache().values
            #expect(recorder.count(of: "find") == 2)
            #expect(parent.referenceCache.statistics.residentCount == 1)
        }
    }

    @Test("policies: global default, per class, per query, per parent")
    func policyLevels() async throws {
        try await TestServer.withDatabase { database, _ in
            let follower = Follower()
            try await follower.insert(into: database)
            // Per class: Thrifty declares lru(4); Pal declares strong.
            #expect(Thrifty().referenceCache.policy.description == "lru(4)")
            #expect(Pal().referenceCache.policy.description == "strong")
            // Per query, passed on to the documents their references resolve to.
            let loaded = try await Follower.objects.using(database).cachePolicy(.weak).first().unwrapped()
            #expect(loaded.referenceCache.policy.description == "weak")
            let plain = try await Follower.objects.using(database).noCache().first().unwrapped()
            #expect(plain.referenceCache.policy.description == "none")
            // Per parent.
            plain.referenceCache.policy = .lru(maxBytes: 4096)
            #expect(plain.referenceCache.policy.description == "lru(4096 bytes)")
            // Global: classes without their own policy follow it.
            #expect(Follower().referenceCache.policy.description == CachePolicy.default.description)
        }
    }

    @Test("resolved documents resolve their own references in the same database and policy")
    func resolvedDocumentsInheritSettings() async throws {
        try await TestServer.withDatabase { database, recorder in
            let first = Follower(), second = Follower(), third = Follower()
            try await Follower.insert([third], into: database)
            second.leader = third.id
            try await second.insert(into: database)
            first.leader = second.id
            try await first.insert(into: database)
            let loaded = try await Follower.objects.using(database).cachePolicy(.weak).get(first.id.unwrapped()).unwrapped()
            let leader = try await loaded.$leader.value.unwrapped()
            #expect(leader.referenceCache.policy.description == "weak")
            #expect(try await leader.$leader.value?.id == third.id)
            #expect(recorder.count(of: "find") >= 3)
        }
    }

    @Test("async resolution runs its blocking fetch on Tendril's threads")
    func asyncResolutionLeavesTheCooperativePool() async throws {
        try await TestServer.withDatabase { database, _ in
            let client = try MongoClient(try TestServer.uri())
            let threads = SendingThreadRecorder()
            client.addCommandObserver(threads)
            let scoped = client.database(database.name)
            let (parentID, _) = try await PalFixture.seed(3, in: scoped)
            let parent = try await Pal.objects.using(scoped).get(parentID).unwrapped()
            let before = threads.sentFromExecutor("find").count
            _ = try await parent.$friends.value(at: 0)
            _ = try await parent.$friends.values
            parent.$friends.evict()
            #expect(parent.referenceCache.statistics.residentCount == 0)
            for try await _ in parent.$friends.noCache() {}
            let finds = threads.sentFromExecutor("find").dropFirst(before)
            #expect(finds.count == 1 + 1 + 1, "friend 0 alone, the other two together, then one window after the eviction")
            #expect(finds.allSatisfy { $0 })
        }
    }
}
