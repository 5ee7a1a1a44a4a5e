import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// The growth scenario under each policy: a parent with 200 friends, each resolved once while
/// only the parent is kept. Counts come from the cache's statistics and the command observer.
@Suite("References: the per-parent cache and its policies")
struct ReferenceCacheTests {
    /// Loads the parent fresh (nothing resolved yet) with `policy`.
    private func loadParent(_ id: ObjectID, _ database: MongoDatabase, policy: CachePolicy) async throws -> Pal {
        let parent = try await Pal.objects.using(database).cachePolicy(policy).get(id).unwrapped("parent")
        #expect(parent.referenceCache.policy.description == policy.description)
        return parent
    }

    /// Resolves every friend one by one, reading its name, keeping nothing but the parent.
    private func passOneByOne(_ parent: Pal) throws -> Int {
        var names = 0
        for index in 0..<parent.$friends.count {
            names += try parent.$friends.blockingValue(at: index).name.isEmpty ? 0 : 1
        }
        return names
    }

    @Test("strong keeps all 200: the second pass sends no query")
    func strongKeepsEverything() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: .strong)
            recorder.reset()
            #expect(try passOneByOne(parent) == 200)
            #expect(recorder.count(of: "find") == 200)
            var stats = parent.referenceCache.statistics
            #expect(stats.residentCount == 200 && stats.misses == 200 && stats.queries == 200 && stats.evictions == 0)
            #expect(stats.residentBytes > 200 * 200, "each friend's BSON holds a 200-byte bio")

            recorder.reset()
            #expect(try passOneByOne(parent) == 200)
            #expect(recorder.count(of: "find") == 0)
            stats = parent.referenceCache.statistics
            #expect(stats.hits == 200 && stats.queries == 200)
        }
    }

    @Test("none keeps nothing: the second pass queries again")
    func noneKeepsNothing() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: .none)
            recorder.reset()
            _ = try passOneByOne(parent)
            #expect(parent.referenceCache.statistics.residentCount == 0)
            #expect(parent.referenceCache.statistics.residentBytes == 0)
            _ = try passOneByOne(parent)
            #expect(recorder.count(of: "find") == 400)
            #expect(parent.referenceCache.statistics.queries == 400)
            #expect(parent.referenceCache.statistics.hits == 0)
        }
    }

    /// The bounded policies, by count and by bytes. With no hit, all three keep the last ones
    /// stored (SIEVE with no visited entry and S3-FIFO with only its small queue are FIFOs).
    static let boundedByCount: [CachePolicy] = [.lru(capacity: 16), .sieve(capacity: 16), .s3fifo(capacity: 16)]
    static let boundedByBytes: [String: @Sendable (Int) -> CachePolicy] = [
        "lru": { .lru(maxBytes: $0) }, "sieve": { .sieve(maxBytes: $0) }, "s3fifo": { .s3fifo(maxBytes: $0) },
    ]

    @Test("a policy bounded to 16 keeps at most 16 and counts its evictions", arguments: boundedByCount)
    func boundedKeepsSixteen(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: policy)
            _ = try passOneByOne(parent)
            var stats = parent.referenceCache.statistics
            #expect(stats.residentCount == 16 && stats.evictions == 184)
            // The 16 kept are the last 16 used: re-reading them sends nothing.
            recorder.reset()
            for index in 184..<200 { _ = try await parent.$friends.value(at: index) }
            #expect(recorder.count(of: "find") == 0)
            // The first one was evicted long ago. (SIEVE's hand clears the 16 marks and evicts
            // the oldest; S3-FIFO moves the 16 hit ones to main, cleared, and evicts the oldest.)
            _ = try await parent.$friends.value(at: 0)
            #expect(recorder.count(of: "find") == 1)
            stats = parent.referenceCache.statistics
            #expect(stats.residentCount == 16 && stats.evictions == 185 && stats.hits == 16)
        }
    }

    @Test("a byte budget keeps exactly what fits in it", arguments: ["lru", "sieve", "s3fifo"])
    func byteBudgetIsExact(policyName: String) async throws {
        let bounded = try #require(Self.boundedByBytes[policyName])
        try await TestServer.withDatabase { database, _ in
            let (parentID, _) = try await PalFixture.seed(20, in: database)
            let probe = try await loadParent(parentID, database, policy: .strong)
            let sizes = try await probe.$friends.values.map { try $0.fieldStorage.stored.unwrapped().byteCount }
            // A budget that fits exactly the last five friends, and one byte less.
            let lastFive = sizes.suffix(5).reduce(0, +)
            for (budget, expected) in [(lastFive, 5), (lastFive - 1, 4)] {
                let parent = try await loadParent(parentID, database, policy: bounded(budget))
                _ = try passOneByOne(parent)
                let stats = parent.referenceCache.statistics
                #expect(stats.residentCount == expected)
                #expect(stats.residentBytes == sizes.suffix(expected).reduce(0, +))
                #expect(stats.residentBytes <= budget)
                #expect(stats.evictions == 20 - expected)
            }
            // A document larger than the whole budget is not kept at all.
            let tiny = try await loadParent(parentID, database, policy: bounded(10))
            _ = try await tiny.$friends.value(at: 0)
            #expect(tiny.referenceCache.statistics.residentCount == 0)
            #expect(tiny.referenceCache.statistics.evictions == 1)
        }
    }

    @Test("weak keeps nothing alive, but serves a friend the caller still holds")
    func weakServesWhatOthersHold() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: .weak)
            var held: Pal? = try await parent.$friends.value(at: 7)
            _ = try passOneByOne(parent)
            #expect(parent.referenceCache.statistics.residentCount == 1, "only the friend the caller holds")
            recorder.reset()
            let again = try await parent.$friends.value(at: 7)
            #expect(again === held)
            #expect(recorder.count(of: "find") == 0)
            held = nil
            _ = consume again
            #expect(parent.referenceCache.statistics.residentCount == 0)
            _ = try await parent.$friends.value(at: 7)
            #expect(recorder.count(of: "find") == 1, "released by everyone: fetched again")
        }
    }

    @Test("reload() empties the cache and resolves nothing")
    func reloadLeavesReferencesUnresolved() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: .strong)
            _ = try await parent.$friends.values
            #expect(parent.referenceCache.statistics.residentCount == 200)
            recorder.reset()
            try await parent.reload(from: database)
            #expect(recorder.commandNames == ["find"], "one find: the parent's, none for its references")
            #expect(parent.referenceCache.statistics.residentCount == 0)
            #expect(parent.referenceCache.statistics.residentBytes == 0)
        }
    }

    @Test("a whole list resolves with one $in query, in order, duplicates kept")
    func batchedResolution() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(200, in: database)
            let parent = try await loadParent(parentID, database, policy: .strong)
            // Two friends already kept: the query asks only for the other 198.
            _ = try await parent.$friends.value(at: 0)
            _ = try await parent.$friends.value(at: 1)
            parent.friends.append(friendIDs[5])
            recorder.reset()
            let friends = try await parent.$friends.values
            let finds = recorder.commands(named: "find")
            #expect(finds.count == 1)
            #expect(finds.first?["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count == 198)
            #expect(friends.map(\.id) == (friendIDs + [friendIDs[5]]).map(Optional.some))
            #expect(friends[5] === friends[200], "one document per id")
            #expect(recorder.count(of: "getMore") == 0, "the batch size covers the whole chunk")
        }
    }

    @Test("lists longer than the chunk size are fetched in chunks")
    func chunkedResolution() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(1500, in: database)
            let parent = try await loadParent(parentID, database, policy: .none)
            recorder.reset()
            let friends = try await parent.$friends.values
            #expect(recorder.count(of: "find") == 2)
            #expect(friends.map(\.id) == friendIDs.map(Optional.some))
        }
    }
}
