import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Lifetimes and concurrency: cycles free, eight tasks share one fetch, a custom policy works.
/// (Overlapping lists from several tasks, per policy: `PolicyPromiseTests`.)
/// Serialized: the cycle tests read a process-wide live-instance counter.
@Suite("References: cycles, concurrency and custom policies", .serialized)
struct ReferenceLifetimeTests {
    static let policies: [CachePolicy] = [.strong, .none, .lru(capacity: 1), .lru(maxBytes: 1 << 20), .weak,
                                          .sieve(capacity: 1), .sieve(maxBytes: 1 << 20), .s3fifo(capacity: 2),
                                          .s3fifo(maxBytes: 1 << 20)]

    @Test("Burt's nemesis is Edison and Edison's is Burt: both freed once dropped", arguments: policies)
    func cyclesAreFreed(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, _ in
            let baseline = Rival.live.withLock { $0 }
            do {
                let burt = Rival(), edison = Rival()
                burt.name = "Burt"; edison.name = "Edison"
                try await Rival.insert([burt, edison], into: database)
                try burt.$nemesis.set(edison)
                try edison.$nemesis.set(burt)
                try burt.$rivals.set([edison, burt])
                try await Rival.save([burt, edison], in: database)
                burt.referenceCache.policy = policy
                edison.referenceCache.policy = policy
                // Resolve around the cycle a few times, in both directions and both shapes. The
                // blocking forms, on this task: the async ones hand each document over from a
                // Tendril thread, which may still be releasing its reference when the count is read.
                try Self.walkCycle(from: burt, edison)
                let loaded = try await Rival.objects.using(database).cachePolicy(policy).all()
                try Self.walkNemeses(of: loaded)
                #expect(Rival.live.withLock { $0 } > baseline)
            }
            #expect(Rival.live.withLock { $0 } == baseline, "every document freed under \(policy)")
        }
    }

    /// Resolves around Burt and Edison's cycle with the blocking calls (see `cyclesAreFreed`).
    static func walkCycle(from burt: Rival, _ edison: Rival) throws {
        var current = try burt.$nemesis.blockingValue().unwrapped()
        for _ in 0..<4 { current = try current.$nemesis.blockingValue().unwrapped() }
        _ = try edison.$nemesis.blockingValue()
        _ = try burt.$rivals.blockingValues()
        _ = try current.$rivals.blockingValues()
    }

    /// Each rival's nemesis's nemesis, with the blocking calls.
    static func walkNemeses(of rivals: [Rival]) throws {
        for rival in rivals { _ = try rival.$nemesis.blockingValue()?.$nemesis.blockingValue() }
    }

    @Test("eight tasks resolving one id on one parent send one query")
    func concurrentResolutionIsSingleFlight() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(20, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            let cache = parent.referenceCache
            recorder.reset()
            let names = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await cache.document(Pal.self, id: friendIDs[3]).name }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(names == Array(repeating: "friend 3", count: 8))
            #expect(recorder.count(of: "find") == 1)
            let stats = cache.statistics
            #expect(stats.queries == 1 && stats.residentCount == 1 && stats.hits + stats.misses == 8)
        }
    }

    @Test("a custom policy (time to live) plugs in, its expiries counted as evictions")
    func customTimeToLivePolicy() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(3, in: database)
            let clock = Locked(0.0)
            let policy = CachePolicy(TimeToLivePolicy(seconds: 60, now: { clock.withLock { $0 } }))
            let parent = try await Pal.objects.using(database).cachePolicy(policy).get(parentID).unwrapped()
            #expect(parent.referenceCache.policy.description == "ttl(60.0s)")
            _ = try await parent.$friends.values
            recorder.reset()
            clock.withLock { $0 = 59 }
            _ = try await parent.$friends.values
            #expect(recorder.count(of: "find") == 0)
            clock.withLock { $0 = 61 }
            _ = try await parent.$friends.values
            #expect(recorder.count(of: "find") == 1, "all three expired: one batched query")
            let stats = parent.referenceCache.statistics
            #expect(stats.evictions == 3 && stats.residentCount == 3 && stats.hits == 3)
        }
    }
}
