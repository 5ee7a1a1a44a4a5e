import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// What each policy promises beyond what it keeps: whether a dangling id is asked for again, and
/// how many times concurrent resolutions fetch an id (the policy table of the Cache policies article).
@Suite("References: dangling ids and concurrent resolutions, per policy")
struct PolicyPromiseTests {
    /// A policy and the two behaviours the Cache policies article documents for it.
    struct Promise: Sendable, CustomTestStringConvertible {
        let policy: CachePolicy
        /// Whether resolving a dangling id again sends no query.
        let remembersDangling: Bool
        /// Whether tasks resolving overlapping lists at once fetch each id once in all (else
        /// only resolutions overlapping a fetch in flight share it).
        let fetchesEachIDOnce: Bool
        var testDescription: String { policy.description }
    }

    static let promises: [Promise] = [
        Promise(policy: .strong, remembersDangling: true, fetchesEachIDOnce: true),
        Promise(policy: .none, remembersDangling: false, fetchesEachIDOnce: false),
        // Room for all 200 friends: nothing is evicted, so nothing is fetched twice.
        Promise(policy: .lru(capacity: 500), remembersDangling: true, fetchesEachIDOnce: true),
        // Room for 16 of 200: an id evicted before another task asks for it is fetched again.
        Promise(policy: .lru(capacity: 16), remembersDangling: true, fetchesEachIDOnce: false),
        Promise(policy: .lru(maxBytes: 1 << 20), remembersDangling: true, fetchesEachIDOnce: true),
        // SIEVE and S3-FIFO keep their promises like an LRU's: with room for all, once each.
        Promise(policy: .sieve(capacity: 500), remembersDangling: true, fetchesEachIDOnce: true),
        Promise(policy: .sieve(capacity: 16), remembersDangling: true, fetchesEachIDOnce: false),
        Promise(policy: .s3fifo(maxBytes: 1 << 20), remembersDangling: true, fetchesEachIDOnce: true),
        Promise(policy: .s3fifo(capacity: 16), remembersDangling: true, fetchesEachIDOnce: false),
        // The tasks hold every document they resolve until the end, so each stays cached.
        Promise(policy: .weak, remembersDangling: false, fetchesEachIDOnce: true),
        // A custom policy that says nothing about dangling ids remembers none; its clock never
        // moves here, so it keeps everything.
        Promise(policy: CachePolicy(TimeToLivePolicy(seconds: 60, now: { 0 })), remembersDangling: false,
                fetchesEachIDOnce: true),
    ]

    @Test("a dangling id: asked for again or not as the policy says; a remembered one until reload()",
          arguments: promises)
    func danglingID(_ promise: Promise) async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let pals = database.collection("Pal")
            let gone = try await pals.findOne(["_id": .objectID(friendIDs[1])]).unwrapped("friend 1")
            try await pals.deleteOne(["_id": .objectID(friendIDs[1])])
            let parent = try await Pal.objects.using(database).cachePolicy(promise.policy).get(parentID).unwrapped("parent")
            recorder.reset()
            // A per-access noCache() remembers nothing, under any policy.
            #expect(throws: DocumentError.self) { try parent.$friends.noCache().blockingValue(at: 1) }
            #expect(parent.referenceCache.statistics.danglingCount == 0)
            for _ in 0..<3 {
                #expect { try parent.$friends.blockingValue(at: 1) } throws: { error in
                    (error as? DocumentError)?.kind == .danglingReference
                        && (error as? DocumentError)?.documentID == .objectID(friendIDs[1])
                }
            }
            let remembers = promise.remembersDangling
            #expect(recorder.count(of: "find") == (remembers ? 2 : 4))
            #expect(parent.referenceCache.statistics.danglingCount == (remembers ? 1 : 0))

            // Stored again under the same id: a remembered id stays dangling until reload().
            try await pals.insertOne(gone)
            recorder.reset()
            if remembers {
                #expect(throws: DocumentError.self) { try parent.$friends.blockingValue(at: 1) }
                #expect(recorder.count(of: "find") == 0, "stale until reload()")
                try await parent.reload(from: database)
                #expect(parent.referenceCache.statistics.danglingCount == 0)
                recorder.reset()
            }
            #expect(try await parent.$friends.value(at: 1).name == "friend 1")
            #expect(recorder.count(of: "find") == 1)
        }
    }

    @Test("an lru remembers as many dangling ids as its bound allows, forgetting the least recently used",
          arguments: [CachePolicy.lru(capacity: 2), .lru(maxBytes: 2 * 12 + 11)])
    func boundedDanglingMemo(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            try await database.collection("Pal").deleteMany(["_id": ["$in": .array(friendIDs.map(BSONValue.objectID))]])
            let parent = try await Pal.objects.using(database).cachePolicy(policy).get(parentID).unwrapped("parent")
            #expect(policy.base.danglingIDCapacity == 2)
            let findsFor: ([Int]) -> Int = { indexes in
                recorder.reset()
                for index in indexes { #expect(throws: DocumentError.self) { try parent.$friends.blockingValue(at: index) } }
                return recorder.count(of: "find")
            }
            #expect(findsFor([0, 1, 2]) == 3)
            #expect(parent.referenceCache.statistics.danglingCount == 2)
            #expect(findsFor([2]) == 0, "remembered: 1 and 2; 2 now the most recently used")
            #expect(findsFor([0]) == 1, "0 was forgotten; remembering it forgets 1")
            #expect(findsFor([1]) == 1)
            #expect(findsFor([0, 1]) == 0)
            #expect(parent.referenceCache.statistics.danglingCount == 2)
            // Evicting an id forgets it; a new policy starts with no dangling id.
            parent.referenceCache.evict(Pal.self, id: friendIDs[0])
            #expect(parent.referenceCache.statistics.danglingCount == 1)
            parent.referenceCache.policy = .strong
            #expect(parent.referenceCache.statistics.danglingCount == 0)
        }
    }

    @Test("the memo keeps its bound and its order however often it is used")
    func memoBookkeeping() {
        let keys = (0..<5).map { _ in ReferenceKey(Pal.self, id: ObjectID()) }
        var memo = DanglingMemo(capacity: 3)
        for round in 0..<10_000 {
            memo.insert(keys[round % 5])
            _ = memo.contains(keys[0])   // used every round: never the least recently used
        }
        #expect(memo.count == 3)
        // The last round inserted keys[4] after keys[3] and keys[2]; keys[0] was used after them.
        #expect(memo.contains(keys[0]) && memo.contains(keys[4]) && memo.contains(keys[3]))
        #expect(!memo.contains(keys[1]) && !memo.contains(keys[2]))
        memo.remove(keys[4])
        #expect(memo.count == 2 && !memo.contains(keys[4]))

        var unbounded = DanglingMemo(capacity: .max), none = DanglingMemo(capacity: 0)
        for key in keys {
            unbounded.insert(key)
            none.insert(key)
        }
        #expect(unbounded.count == 5 && none.count == 0)
        unbounded.removeAll()
        #expect(unbounded.count == 0)
    }

    @Test("eight tasks resolving overlapping lists: no id in two finds at once, each id fetched as the policy says",
          arguments: promises)
    func concurrentResolutions(_ promise: Promise) async throws {
        try await TestServer.withDatabase { database, _ in
            let (parentID, friendIDs) = try await PalFixture.seed(200, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(promise.policy).get(parentID).unwrapped("parent")
            let cache = parent.referenceCache
            let finds = FindsInFlight()
            database.client.addCommandObserver(finds)
            defer { database.client.removeCommandObserver(finds) }
            // Task t asks for 100 ids from 25·t on, wrapping: each id is asked for by four tasks.
            // Even tasks resolve their list at once, odd ones one id at a time.
            let lists = (0..<8).map { task in (0..<100).map { friendIDs[(task * 25 + $0) % 200] } }
            let resolved = try await withThrowingTaskGroup(of: (Int, UncheckedTransfer<[Pal]>).self) { group in
                for (task, ids) in lists.enumerated() {
                    group.addTask {
                        if task.isMultiple(of: 2) { return (task, UncheckedTransfer(try await cache.documents(Pal.self, ids: ids))) }
                        var documents: [Pal] = []
                        for id in ids { documents.append(try await cache.document(Pal.self, id: id)) }
                        return (task, UncheckedTransfer(documents))
                    }
                }
                // Every document stays held until the end (what `.weak` needs to serve it).
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1.value }
            }
            for (task, ids) in lists.enumerated() {
                #expect(resolved[task]?.map(\.id) == ids.map(Optional.some))
            }
            let (asked, overlaps) = finds.result
            #expect(overlaps == 0, "an id being fetched is waited for, never asked for again")
            #expect(Set(asked) == Set(friendIDs), "nothing was kept before: every id is fetched")
            if promise.fetchesEachIDOnce {
                #expect(asked.count == 200, "each id fetched once in all")
            } else {
                #expect(asked.count <= 8 * 100, "at most once per resolution")
            }
        }
    }
}

/// Watches `find`s by `_id`: every id asked for, and how often an id was asked for while another
/// find asking for it was still running. Deterministic: the cache keeps a fetch in flight from
/// before its command starts until after it succeeds.
final class FindsInFlight: CommandObserver {
    /// A command's events: request ids are numbered per pooled connection, so two finds running
    /// at once can share one; a command's events come on the thread that sends it.
    private struct Request: Hashable {
        let thread = pthread_self()
        let id: Int64
    }
    private struct State {
        var running: [Request: [ObjectID]] = [:]
        var inFlight: [ObjectID: Int] = [:]
        var asked: [ObjectID] = []
        var overlaps = 0
    }
    private let state = Locked(State())

    /// Every id asked for, in order, and how many were asked while already in flight.
    var result: (asked: [ObjectID], overlaps: Int) { state.withLock { ($0.asked, $0.overlaps) } }

    func commandStarted(_ event: CommandStartedEvent) {
        guard event.commandName == "find" else { return }
        let ids = (event.command["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue ?? [])
            .compactMap(\.objectIDValue)
        state.withLock { state in
            state.running[Request(id: event.requestID)] = ids
            state.asked += ids
            for id in ids {
                if state.inFlight[id, default: 0] > 0 { state.overlaps += 1 }
                state.inFlight[id, default: 0] += 1
            }
        }
    }

    func commandSucceeded(_ event: CommandSucceededEvent) { finished(event.requestID) }
    func commandFailed(_ event: CommandFailedEvent) { finished(event.requestID) }

    private func finished(_ requestID: Int64) {
        state.withLock { state in
            for id in state.running.removeValue(forKey: Request(id: requestID)) ?? [] { state.inFlight[id, default: 0] -= 1 }
        }
    }
}
