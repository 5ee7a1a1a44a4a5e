import Foundation
import Synchronization
import Testing
@testable import Tendril
@testable import TendrilDriver

/// A reference pool (issue 16, item 1): identity across parents and along a data cycle, one
/// budget for concurrent parents, no leaks, writes through Tendril, readers racing writers.
/// Serialized: the leak tests read a process-wide live-instance counter.
@Suite("References: a pool shared by many parents", .serialized)
struct ReferencePoolTests {
    /// Two parents listing the same friends, loaded through `pool` by one query.
    static func twoParents(sharing count: Int, pool: ReferencePool,
                           in database: MongoDatabase) async throws -> (Pal, Pal, [ObjectID]) {
        let (firstID, friendIDs) = try await PalFixture.seed(count, in: database)
        let second = Pal()
        second.name = "second parent"
        second.friends = friendIDs.reversed()
        try await second.insert(into: database)
        let first = try await Pal.objects.using(database).cachePolicy(.pooled(pool)).get(firstID).unwrapped()
        let other = try await Pal.objects.using(database).cachePolicy(.pooled(pool)).get(second.id.unwrapped()).unwrapped()
        return (first, other, friendIDs)
    }

    @Test("two parents resolving the same ids get the same instances, fetched once")
    func identityAcrossParents() async throws {
        try await TestServer.withDatabase { database, recorder in
            let pool = ReferencePool()
            let (first, second, friendIDs) = try await Self.twoParents(sharing: 5, pool: pool, in: database)
            recorder.reset()
            let mine = try await first.$friends.values
            let theirs = try await second.$friends.values
            #expect(recorder.count(of: "find") == 1, "the second parent is served by the pool")
            for (index, friend) in mine.enumerated() {
                #expect(friend === theirs[friendIDs.count - 1 - index])
                #expect(friend.isShared)
            }
            // The friends resolve their own references through the pool as well.
            #expect((mine[0].referenceCache.policy.base as? PooledCachePolicy)?.pool === pool)
            #expect(pool.statistics.residentCount == 5)
            #expect(first.referenceCache.statistics.residentCount == 0, "a pooled parent keeps nothing itself")
        }
    }

    @Test("under .peers a peer fetch feeds the pool: ids it holds are not fetched, the peers get its instances")
    func peersGoThroughThePool() async throws {
        try await TestServer.withDatabase { database, recorder in
            let pool = ReferencePool()
            let (firstID, friendIDs) = try await PalFixture.seed(6, in: database)
            let second = Pal()
            second.name = "second parent"
            second.friends = Array(friendIDs[3...])
            try await second.insert(into: database)
            let held = try await pool.document(Pal.self, id: friendIDs[5], in: database)
            // One query loads both parents: they are peers.
            let loaded = try await Pal.objects.using(database).cachePolicy(.pooled(pool)).filter(\.$bio == "").all()
            let parents = try [loaded.first { $0.id == firstID }.unwrapped(), loaded.first { $0.id != firstID }.unwrapped()]
            try #require(loaded.count == 2)
            recorder.reset()
            let mine = try await parents[0].$friends.values
            let fetched = recorder.commands(named: "find").map { $0["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count ?? 0 }
            #expect(fetched == [5], "one $in for both parents, without the id the pool holds: \(fetched)")
            let theirs = try await parents[1].$friends.values
            #expect(recorder.count(of: "find") == 1, "the peer's friends came through the pool")
            #expect(theirs[2] === held && mine[5] === held)
            for (index, friend) in theirs.enumerated() { #expect(friend === mine[3 + index]) }
            #expect(pool.statistics.residentCount == 6)
        }
    }

    @Test("a peer fetch through the pool leaves the ids another fetch of the pool has in flight to it")
    func peerFetchLeavesIDsInFlight() async throws {
        try await TestServer.withDatabase { database, recorder in
            let pool = ReferencePool()
            let (firstID, friendIDs) = try await PalFixture.seed(4, in: database)
            let extra = Pal()
            extra.name = "extra"
            extra.bio = "not a parent"
            try await extra.insert(into: database)
            let extraID = try extra.id.unwrapped()
            let second = Pal()
            second.name = "second parent"
            second.friends = [friendIDs[0], extraID]
            try await second.insert(into: database)
            let loaded = try await Pal.objects.using(database).cachePolicy(.pooled(pool)).filter(\.$bio == "").all()
            try #require(loaded.count == 2)
            let first = try loaded.first { $0.id == firstID }.unwrapped(), other = try loaded.first { $0.id != firstID }.unwrapped()
            // Another parent of the pool is fetching `extra` at this moment.
            let claim = try pool.cache.claimPeerIDs([extraID], as: Pal.self).unwrapped()
            recorder.reset()
            _ = try await first.$friends.values
            #expect(Self.idsSent(recorder) == [4], "the peer's extra id is left to the fetch in flight")
            pool.cache.finishPeerClaim(claim, fetched: [:], error: nil, as: Pal.self)
            recorder.reset()
            let theirs = try await other.$friends.values
            #expect(Self.idsSent(recorder) == [1] && theirs.map(\.name) == ["friend 0", "extra"])
        }
    }

    /// How many ids each `find` recorded asked for with `$in`.
    static func idsSent(_ recorder: CommandRecorder) -> [Int] {
        recorder.commands(named: "find").map { $0["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count ?? 0 }
    }

    @Test("walking Burt → Edison → Burt for 6 hops returns the same two instances")
    func identityAlongADataCycle() async throws {
        try await TestServer.withDatabase { database, recorder in
            let pool = ReferencePool()
            let (burtID, edisonID) = try await Self.seedRivals(in: database)
            recorder.reset()
            let burt = try await pool.document(PoolRival.self, id: burtID, in: database)
            var current = burt
            var seen: [ObjectIdentifier] = []
            for _ in 0..<6 {
                current = try await current.$nemesis.value.unwrapped()
                seen.append(ObjectIdentifier(current))
            }
            #expect(current === burt, "six hops come back to the same Burt")
            #expect(Set(seen).count == 2, "two instances, not seven")
            let edison = try await burt.$nemesis.value
            #expect(current.id == burtID && edison?.id == edisonID)
            #expect(recorder.count(of: "find") == 2)
        }
    }

    @Test("dropping the parents and the pool frees every document, under every pool", arguments: [
        ReferencePool.Kind.unbounded, .capacity(1), .maxBytes(1 << 20), .sieve, .compact,
    ])
    func noLeaks(kind: ReferencePool.Kind) async throws {
        try await TestServer.withDatabase { database, _ in
            let baseline = PoolRival.live.withLock { $0 }
            do {
                let pool = kind.make()
                _ = try await Self.seedRivals(in: database)
                let parents = try await PoolRival.objects.using(database).cachePolicy(.pooled(pool)).all()
                try Self.walk(parents)
                #expect(PoolRival.live.withLock { $0 } > baseline)
            }
            #expect(PoolRival.live.withLock { $0 } == baseline, "every document freed under \(kind)")
        }
    }

    @Test("a pool outlived by its parents: they resolve as under .none, and nothing leaks")
    func parentsOutliveThePool() async throws {
        try await TestServer.withDatabase { database, recorder in
            let baseline = PoolRival.live.withLock { $0 }
            do {
                var pool: ReferencePool? = ReferencePool()
                let (burtID, _) = try await Self.seedRivals(in: database)
                let burt = try await PoolRival.objects.using(database).cachePolicy(.pooled(try pool.unwrapped())).get(burtID).unwrapped()
                _ = try Self.nemesisName(of: burt)
                pool = nil
                recorder.reset()
                #expect(try Self.nemesisName(of: burt) == "Edison")
                #expect(try Self.nemesisName(of: burt) == "Edison")
                #expect(recorder.count(of: "find") == 2, "nothing kept once the pool is gone")
            }
            #expect(PoolRival.live.withLock { $0 } == baseline)
        }
    }

    @Test("8 parents resolving 40 shared ids at once: each id fetched once, the budget exact")
    func concurrentParents() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (_, friendIDs) = try await PalFixture.seed(40, in: database)
            for budget in [nil, 12] as [Int?] {
                let pool = ReferencePool(capacity: budget)
                let parents = try await Self.parents(8, listing: friendIDs, pool: pool, in: database)
                recorder.reset()
                let caches = parents.map { Unchecked($0.referenceCache) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, cache) in caches.enumerated() {
                        let order = index.isMultiple(of: 2) ? friendIDs : friendIDs.reversed()
                        group.addTask { _ = try await cache.value.documents(Pal.self, ids: order) }
                    }
                    try await group.waitForAll()
                }
                let fetched = recorder.commands(named: "find").map { ($0["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count) ?? 0 }
                if budget == nil {
                    #expect(fetched.reduce(0, +) == 40, "every id fetched exactly once across 8 parents: \(fetched)")
                    #expect(pool.statistics.residentCount == 40)
                } else {
                    #expect(pool.statistics.residentCount == 12, "exactly the budget, for all parents together")
                }
            }
        }
    }

    @Test("a byte budget holds for all parents together")
    func byteBudget() async throws {
        try await TestServer.withDatabase { database, _ in
            let (_, friendIDs) = try await PalFixture.seed(30, in: database)
            let pool = ReferencePool(maxBytes: 4_000)
            for parent in try await Self.parents(4, listing: friendIDs, pool: pool, in: database) {
                for friend in try await parent.$friends.values { #expect(friend.name.hasPrefix("friend")) }
            }
            let statistics = pool.statistics
            #expect(statistics.residentBytes <= 4_000 && statistics.residentBytes > 4_000 - 400)
            #expect(statistics.evictions > 0)
        }
    }

    @Test("saving a pooled document keeps it the pool's entry; deleting it makes its id dangling")
    func writesThroughTendril() async throws {
        try await TestServer.withDatabase { database, recorder in
            let pool = ReferencePool(maxBytes: 1 << 20)   // counts each entry at its current size
            let (first, second, _) = try await Self.twoParents(sharing: 3, pool: pool, in: database)
            let ada = try await first.$friends.values[0]
            let bytesBefore = pool.statistics.residentBytes
            ada.name = "Ada, renamed at length"
            try await ada.save()
            recorder.reset()
            let again = try await second.$friends.value(at: 2)
            #expect(again === ada && again.name == "Ada, renamed at length")
            #expect(recorder.count(of: "find") == 0)
            #expect(pool.statistics.residentBytes == bytesBefore + 14, "the entry's new size counts")

            try await ada.delete()
            #expect(pool.statistics.residentCount == 2)
            await #expect(throws: DocumentError.self) { _ = try await second.$friends.value(at: 2) }
            #expect(recorder.count(of: "find") == 0, "the deleted id is remembered as dangling")
        }
    }

    @Test("8 readers race a save and reload of a pooled document: old or new values, same instance")
    func readersRaceWritersOnAPooledDocument() async throws {
        try await TestServer.withDatabase { database, _ in
            let pool = ReferencePool(capacity: 8)
            let (first, second, _) = try await Self.twoParents(sharing: 3, pool: pool, in: database)
            let shared = try await first.$friends.value(at: 0)
            #expect(shared.isShared)
            let progress = ReaderProgress()
            let reader = Unchecked(second), writer = Unchecked(shared)
            let writes = 30
            let validNames = Set(["friend 0"] + (1...writes).map { "name \($0)" })
            let readers = (0..<8).map { index in
                ReaderThread {
                    var round = 0
                    while round < 100 || (!progress.writerDone.load(ordering: .acquiring) && round < 10_000) {
                        round += 1
                        if round % 16 == 0 { usleep(100) }
                        do {
                            // Through the second parent: the pool's instance, shared with the writer.
                            let friend = try reader.value.$friends.blockingValue(at: 2)
                            if friend !== writer.value { progress.wrongValues.withLock { $0.append("another instance") } }
                            if !validNames.contains(friend.name) { progress.wrongValues.withLock { $0.append(friend.name) } }
                            if index % 2 == 0, friend.tags != ["a", "b", "c", "d", "e"] {
                                progress.wrongValues.withLock { $0.append("tags") }
                            }
                        } catch {
                            progress.wrongValues.withLock { $0.append("threw \(error)") }
                        }
                    }
                    progress.reads.add(round, ordering: .relaxed)
                }
            }
            for version in 1...writes {
                shared.name = "name \(version)"
                try await shared.save()
                try await shared.reload(from: database)
            }
            progress.writerDone.store(true, ordering: .releasing)
            for thread in readers { await thread.finished() }
            #expect(progress.wrongValues.withLock { $0 }.isEmpty, "\(progress.wrongValues.withLock { $0.prefix(5) })")
            #expect(progress.reads.load(ordering: .relaxed) >= 800)
        }
    }

    /// Walks the cycle from the parents with the blocking calls, on this thread
    /// (the async ones hand documents over from a Tendril thread, which may still be releasing
    /// its reference when the live count is read).
    static func walk(_ parents: [PoolRival]) throws {
        for parent in parents { _ = try parent.$nemesis.blockingValue()?.$nemesis.blockingValue() }
        // The pool's own Burt and Edison (a parent loaded by the query is not the pool's).
        let edison = try parents[0].$nemesis.blockingValue().unwrapped()
        var current = try edison.$nemesis.blockingValue().unwrapped()
        for _ in 0..<4 { current = try current.$nemesis.blockingValue().unwrapped() }
        _ = try current.$rivals.blockingValues()
        _ = try edison.$rivals.blockingValues()
    }

    /// The name of `rival`'s nemesis, resolved with the blocking call (see `walk`).
    static func nemesisName(of rival: PoolRival) throws -> String? {
        try rival.$nemesis.blockingValue()?.name
    }

    /// Burt and Edison, each the other's nemesis; their ids.
    static func seedRivals(in database: MongoDatabase) async throws -> (ObjectID, ObjectID) {
        let burt = PoolRival(), edison = PoolRival()
        burt.name = "Burt"
        edison.name = "Edison"
        try await PoolRival.insert([burt, edison], into: database)
        try burt.$nemesis.set(edison)
        try edison.$nemesis.set(burt)
        try burt.$rivals.set([edison, burt])
        try await PoolRival.save([burt, edison], in: database)
        return (try burt.id.unwrapped(), try edison.id.unwrapped())
    }

    /// `count` parents listing `ids`, each loaded alone (no peers between them) through `pool`.
    static func parents(_ count: Int, listing ids: [ObjectID], pool: ReferencePool,
                        in database: MongoDatabase) async throws -> [Pal] {
        var parents: [Pal] = []
        for index in 0..<count {
            let parent = Pal()
            parent.name = "parent \(index)"
            parent.friends = ids
            try await parent.insert(into: database)
            parents.append(try await Pal.objects.using(database).cachePolicy(.pooled(pool)).get(parent.id.unwrapped()).unwrapped())
        }
        return parents
    }
}

/// Burt and Edison for the pool's tests, counting their live instances (a class of its own: the
/// lifetime suite's `Rival` count runs beside this suite).
final class PoolRival: Document {
    static let live = Locked(0)
    @Field var name = ""
    @Reference<PoolRival> var nemesis
    @ReferenceList<PoolRival> var rivals

    required init() {
        super.init()
        Self.live.withLock { $0 += 1 }
    }
    deinit { Self.live.withLock { $0 -= 1 } }
}

extension ReferencePool {
    /// The pools the leak test runs under.
    enum Kind: Sendable, CustomStringConvertible {
        case unbounded, capacity(Int), maxBytes(Int), sieve, compact

        func make() -> ReferencePool {
            switch self {
            case .unbounded: ReferencePool()
            case .capacity(let capacity): ReferencePool(capacity: capacity)
            case .maxBytes(let bytes): ReferencePool(maxBytes: bytes)
            case .sieve: ReferencePool(keeping: .sieve(capacity: 1))
            case .compact: ReferencePool(maxBytes: 1 << 20, keep: .bytes)
            }
        }

        var description: String {
            switch self {
            case .unbounded: "unbounded"
            case .capacity(let capacity): "capacity \(capacity)"
            case .maxBytes(let bytes): "\(bytes) bytes"
            case .sieve: "sieve(1)"
            case .compact: "bytes kept"
            }
        }
    }
}
