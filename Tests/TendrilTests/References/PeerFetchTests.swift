import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// How many ids each `find` sent asked for with `$in`, in order.
private func inSizes(_ recorder: CommandRecorder) -> [Int] {
    recorder.commands(named: "find").compactMap { $0["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count }
}

/// `count` pals named "pal i", each with a best friend of its own ("friend i"), two friends and
/// two roles among those friends.
private func seedPals(_ count: Int, in database: MongoDatabase) async throws -> (pals: [Pal], friends: [Pal]) {
    let friends = (0..<count).map { index in Pal().with { $0.name = "friend \(index)" } }
    try await Pal.insert(friends, into: database)
    let pals = try (0..<count).map { index in
        try Pal().with { pal in
            pal.name = "pal \(index)"
            try pal.$bestFriend.set(friends[index])
            try pal.$friends.set([friends[index], friends[(index + 1) % count]])
            pal.roles = try ["lead": friends[index].id.unwrapped(), "deputy": friends[(index + 2) % count].id.unwrapped()]
        }
    }
    try await Pal.insert(pals, into: database)
    return (pals, friends)
}

private func palsQuery(_ database: MongoDatabase) -> Query<Pal> {
    Pal.objects.using(database).filter(raw: ["name": ["$regex": "^pal "]]).fetchMode(.peers)
}

@Suite("Fetch mode .peers: documents that arrived together resolve a field together")
struct PeerFetchTests {
    @Test("the lazy loop over 100 meetings sends 5 queries under .peers, 401 under .one")
    func meetingLoop() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(100, in: database)
            for (mode, expected) in [(FetchMode.peers, 5), (.one, 401)] {
                recorder.reset()
                var titles = 0
                for try await meeting in Meeting.objects.using(database).fetchMode(mode) {
                    _ = try await meeting.$division.value.unwrapped()
                    #expect(try await meeting.$attendees.values.count == 10)
                    _ = try await meeting.$room.value?.$event.value.unwrapped()
                    titles += 1
                }
                #expect(titles == 100)
                #expect(recorder.count(of: "find") == expected, "mode \(mode)")
            }
        }
    }

    @Test("one query per reference field and batch: 4 batches of 25 send 4 division queries")
    func perBatch() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(100, in: database)
            recorder.reset()
            let (_, commandsSent) = try await QueryBudget.count {
                for try await meeting in Meeting.objects.using(database).fetchMode(.peers).batchSize(25) {
                    _ = try await meeting.$division.value
                }
            }
            #expect(recorder.count(of: "find") == 1 + 4)
            #expect(commandsSent == recorder.startedEvents.count)
        }
    }

    @Test("single references, lists and dictionaries: every member's ids in one $in, each member served from its cache")
    func singleListDictionary() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (_, friends) = try await seedPals(20, in: database)
            let pals = try await palsQuery(database).sort(\.$name).all()
            let names = Dictionary(uniqueKeysWithValues: friends.map { ($0.id, $0.name) })
            recorder.reset()
            for pal in pals {
                let best = try await pal.$bestFriend.value.unwrapped()
                #expect(names[best.id] == best.name)
            }
            #expect(inSizes(recorder) == [20])
            recorder.reset()
            // Each pal keeps its best friend (its first friend): one $in for every pal's second.
            for pal in pals { #expect(try await pal.$friends.values.count == 2) }
            #expect(inSizes(recorder) == [20])
            for pal in pals { pal.referenceCache.clear() }
            recorder.reset()
            for pal in pals { #expect(try await pal.$roles.values.count == 2) }
            #expect(inSizes(recorder) == [20])
            #expect(pals.allSatisfy { $0.referenceCache.statistics.residentCount == 2 })
        }
    }

    @Test("nested: the rooms resolved together are peers, so their events come in one more query")
    func nested() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(40, in: database)
            let meetings = try await Meeting.objects.using(database).fetchMode(.peers).all()
            recorder.reset()
            for meeting in meetings { _ = try await meeting.$room.value?.$event.value.unwrapped() }
            #expect(inSizes(recorder) == [4, 4])
        }
    }

    @Test("a document resolved alone (one id asked for) joins no group; two resolved together do")
    func loneResolutionFormsNoGroup() async throws {
        try await TestServer.withDatabase { database, _ in
            let (pals, _) = try await seedPals(2, in: database)
            let parent = try await Pal.objects.using(database).fetchMode(.peers).get(pals[0].id.unwrapped()).unwrapped()
            // One id: no peers to fetch for, so no group (and no weak reference to the document).
            let alone = try await parent.$bestFriend.value.unwrapped()
            #expect(alone.referenceSettings?.peers == nil)
            // Two ids in one $in (another parent, whose cache holds neither): the two documents
            // are each other's peers.
            let other = try await Pal.objects.using(database).fetchMode(.peers).get(pals[1].id.unwrapped()).unwrapped()
            let together = try await other.$friends.values
            #expect(together.count == 2)
            #expect(together.allSatisfy { $0.referenceSettings?.peers != nil })
            #expect(together[0].referenceSettings?.peers === together[1].referenceSettings?.peers)
        }
    }

    @Test("a query's batch of one document forms no group; a batch of two does")
    func loneQueryResultFormsNoGroup() async throws {
        try await TestServer.withDatabase { database, _ in
            let (pals, _) = try await seedPals(3, in: database)
            // `get(_:)` and `first()` read one document through their own path, without groups.
            let byID = try await Pal.objects.using(database).fetchMode(.peers).get(pals[0].id.unwrapped()).unwrapped()
            #expect(byID.referenceSettings?.peers == nil)
            let first = try await Pal.objects.using(database).fetchMode(.peers).first().unwrapped()
            #expect(first.referenceSettings?.peers == nil)
            // A streamed query whose batch holds one document.
            let matched = try await Pal.objects.using(database).fetchMode(.peers).filter(\.$name == "pal 1").all()
            #expect(matched.count == 1)
            #expect(matched.first?.referenceSettings?.peers == nil)
            // Batches of two and one: the two are peers, the last is alone.
            let batches = try await Pal.objects.using(database).fetchMode(.peers).limit(3).batchSize(2).all()
            #expect(batches.count == 3)
            #expect(batches[0].referenceSettings?.peers != nil)
            #expect(batches[0].referenceSettings?.peers === batches[1].referenceSettings?.peers)
            #expect(batches[2].referenceSettings?.peers == nil)
        }
    }

    @Test("a group drops the boxes of freed members once half of them are freed")
    func deadMembersAreDropped() async throws {
        try await TestServer.withDatabase { database, _ in
            _ = try await seedPals(50, in: database)
            var batch = try await palsQuery(database).batchSize(100).all()
            #expect(batch.count == 50)
            let group = try #require(batch[0].referenceSettings?.peers)
            #expect(batch.allSatisfy { $0.referenceSettings?.peers === group })
            #expect(group.memberBoxCount == 50)
            batch.removeLast(45)   // 45 members freed, 5 kept
            #expect(group.liveMemberCount == 5)
            // Dropped at the 25th death (25 of 50), then at the 16th of the remaining 25: 9 boxes.
            #expect(group.memberBoxCount < 25)
            #expect(batch.count == 5)
        }
    }

    @Test("one by one through a list's async sequence: each window's documents are peers")
    func throughTheAsyncSequence() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (_, friends) = try await seedPals(30, in: database)
            let hub = Pal().with { $0.name = "hub" }
            try hub.$friends.set(friends)
            try await hub.insert(into: database)
            let loaded = try await Pal.objects.using(database).fetchMode(.peers).filter(raw: ["name": "hub"]).first().unwrapped()
            // Each friend's best friend: the next friend.
            for (index, friend) in friends.enumerated() {
                try friend.$bestFriend.set(friends[(index + 1) % friends.count])
                try await friend.save()
            }
            recorder.reset()
            var count = 0
            for try await friend in loaded.$friends.readingAhead(10) {
                _ = try await friend.$bestFriend.value.unwrapped()
                count += 1
            }
            #expect(count == 30)
            // Per window of 10: one $in for the window, one for its members' best friends.
            #expect(inSizes(recorder) == [10, 10, 10, 10, 10, 10])
        }
    }

    @Test("streaming a long list asks for each peer's first window only, never its whole list")
    func streamingAsksForPeersFirstWindows() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (_, friends) = try await seedPals(30, in: database)
            let hubs = try (0..<3).map { index in
                try Pal().with { $0.name = "hub \(index)"; try $0.$friends.set(Array(friends.shuffled())) }
            }
            try await Pal.insert(hubs, into: database)
            let loaded = try await Pal.objects.using(database).fetchMode(.peers).filter(raw: ["name": ["$regex": "^hub"]]).all()
            recorder.reset()
            var seen = 0
            for try await _ in loaded[0].$friends.readingAhead(10) { seen += 1 }
            #expect(seen == 30)
            // The first window brings the other hubs' first windows (at most 30 distinct ids);
            // the later windows are the first hub's own.
            let sizes = inSizes(recorder)
            #expect(sizes.count == 3)
            #expect(sizes.dropFirst().allSatisfy { $0 <= 10 })
            #expect(try sizes.first.unwrapped() <= 30)
            for hub in loaded.dropFirst() {
                #expect(hub.referenceCache.statistics.residentCount == 10)
            }
        }
    }

    @Test("a class without reference fields gets no group: its documents pay nothing for peers")
    func classWithoutReferencesHasNoGroup() async throws {
        try await TestServer.withDatabase { database, _ in
            try await MeetingFixture.seed(3, in: database)
            let divisions = try await Division.objects.using(database).fetchMode(.peers).all()
            #expect(divisions.count == 3)
            #expect(divisions.allSatisfy { $0.referenceSettings?.peers == nil })
            let meetings = try await Meeting.objects.using(database).fetchMode(.peers).all()
            #expect(meetings.allSatisfy { $0.referenceSettings?.peers === meetings[0].referenceSettings?.peers })
            #expect(meetings[0].referenceSettings?.peers != nil)
        }
    }

    @Test("members dropped before a peer fetch are not fetched for")
    func droppedMembersAreNotFetchedFor() async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(20, in: database)
            var pals = try await palsQuery(database).all()
            let group = try #require(pals.first?.referenceSettings?.peers)
            #expect(group.liveMemberCount == 20)
            pals.removeLast(15)
            #expect(group.liveMemberCount == 5)
            recorder.reset()
            _ = try await pals[0].$bestFriend.value
            #expect(inSizes(recorder) == [5])
            for pal in pals { #expect(pal.referenceCache.statistics.residentCount == 1) }
        }
    }

    @Test("members whose policy keeps nothing are skipped; their own accesses fetch for themselves", arguments: [CachePolicy.none, .weak])
    func nonKeepingMembersSkipped(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(10, in: database)
            let pals = try await palsQuery(database).sort(\.$name).all()
            for pal in pals[5...] { pal.referenceCache.policy = policy }
            recorder.reset()
            _ = try await pals[0].$bestFriend.value
            #expect(inSizes(recorder) == [5])
            recorder.reset()
            _ = try await pals[9].$bestFriend.value
            #expect(inSizes(recorder) == [1])
            for pal in pals[..<5] { _ = try await pal.$bestFriend.value }
            #expect(recorder.count(of: "find") == 1)
        }
    }

    @Test("a custom policy that says it keeps nothing is skipped like .none")
    func customNonKeepingPolicySkipped() async throws {
        /// Keeps like `.strong`, but tells peers not to fetch for it.
        struct OwnAccessesOnly: ReferenceCachePolicy {
            var description: String { "own-accesses-only" }
            var keepsFetchedDocuments: Bool { false }
            func makeStorage() -> any ReferenceCacheStorage { CachePolicy.strong.base.makeStorage() }
        }
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(6, in: database)
            let pals = try await palsQuery(database).sort(\.$name).all()
            for pal in pals[3...] { pal.referenceCache.policy = CachePolicy(OwnAccessesOnly()) }
            recorder.reset()
            _ = try await pals[0].$bestFriend.value
            #expect(inSizes(recorder) == [3])
        }
    }

    @Test(".raise refuses before any peer logic and .one fetches for the parent alone, per access")
    func accessModesOverridePeers() async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(8, in: database)
            let pals = try await palsQuery(database).all()
            recorder.reset()
            let error = await #expect(throws: DocumentError.self) { _ = try await pals[0].$bestFriend.fetching(.raise).value }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Pal", property: "bestFriend"))
            #expect(recorder.startedEvents.isEmpty)
            _ = try await pals[0].$bestFriend.fetching(.one).value
            #expect(inSizes(recorder) == [1])
            _ = try await pals[1].$bestFriend.value   // the group: every other pal's, pals[0]'s is kept
            #expect(inSizes(recorder) == [1, 7])
        }
    }

    @Test("a group resolved from several tasks at once fetches each id once")
    func severalTasksOneGroup() async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(40, in: database)
            let pals = UncheckedTransfer(try await palsQuery(database).all())
            recorder.reset()
            let names = try await withThrowingTaskGroup(of: String.self) { tasks in
                for index in 0..<40 {
                    tasks.addTask { try await pals.value[index].$bestFriend.value?.name ?? "" }
                }
                return try await tasks.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(names.count == 40)
            #expect(inSizes(recorder).reduce(0, +) == 40)
            #expect(pals.value.allSatisfy { $0.referenceCache.statistics.residentCount == 1 })
        }
    }

    @Test("two concurrent iterations of two queries do not mix groups")
    func concurrentIterationsDoNotMix() async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await seedPals(30, in: database)
            recorder.reset()
            func iterate(_ names: [String]) async throws -> (ids: Int, sent: Int) {
                let query = Pal.objects.using(database).fetchMode(.peers).filter(raw: ["name": ["$in": .array(names.map(BSONValue.string))]])
                let (count, sent) = try await QueryBudget.count {
                    var count = 0
                    for try await pal in query {
                        let best = try await pal.$bestFriend.value.unwrapped()
                        #expect(best.name == pal.name.replacingOccurrences(of: "pal", with: "friend"))
                        count += 1
                    }
                    return count
                }
                return (count, sent)
            }
            async let first = iterate((0..<15).map { "pal \($0)" })
            async let second = iterate((15..<30).map { "pal \($0)" })
            let results = try await [first, second]
            #expect(results.map(\.ids) == [15, 15])
            #expect(results.map(\.sent) == [2, 2])   // its own find, one $in for its own batch
            #expect(inSizes(recorder).sorted() == [15, 15])
        }
    }

}

/// Serialized: reads a process-wide live-instance counter.
@Suite("Fetch mode .peers: what peers hold", .serialized)
struct PeerLifetimeTests {
    @Test("no leaks: every document is freed once dropped, under every policy (live-instance counts)",
          arguments: [CachePolicy.strong, .none, .weak, .lru(capacity: 2), .lru(maxBytes: 1 << 20)])
    func noLeaks(policy: CachePolicy) async throws {
        try await TestServer.withDatabase { database, recorder in
            let baseline = Sibling.live.withLock { $0 }
            try await Sibling.seed(12, in: database)
            weak var group: PeerGroup?
            do {
                let parents = try await Sibling.objects.using(database).filter(raw: ["name": ["$regex": "^parent"]])
                    .fetchMode(.peers).cachePolicy(policy).all()
                group = parents.first?.referenceSettings?.peers
                recorder.reset()
                try Self.walk(parents)
                #expect(Sibling.live.withLock { $0 } > baseline)
                // Keeping policies: next, its next, kin; one $in each. Others fetch one by one.
                if policy.base.keepsFetchedDocuments { #expect(recorder.count(of: "find") == 3) }
            }
            #expect(group == nil)
            #expect(Sibling.live.withLock { $0 } == baseline, "every document freed under \(policy)")
        }
    }

    /// Resolves every parent's references with the blocking calls, on this task: the async
    /// ones hand each document over from a Tendril thread, which may still be releasing its
    /// reference when the live count is read.
    static func walk(_ parents: [Sibling]) throws {
        for parent in parents {
            let next = try parent.$next.blockingValue()
            _ = try next?.$next.blockingValue()
            _ = try parent.$kin.blockingValues()
        }
    }
}

/// Counts its live instances, for the peers' leak test (used by no other test).
final class Sibling: Document {
    static let live = Locked(0)
    @Field var name = ""
    @Reference<Sibling> var next
    @ReferenceList<Sibling> var kin

    required init() {
        super.init()
        Self.live.withLock { $0 += 1 }
    }
    deinit { Self.live.withLock { $0 -= 1 } }

    /// `count` parents, each with a child of its own as `next` (whose `next` is a grandchild
    /// of its own) and two children as `kin`.
    static func seed(_ count: Int, in database: MongoDatabase) async throws {
        let grandchildren = (0..<count).map { index in Sibling().with { $0.name = "grandchild \(index)" } }
        try await Sibling.insert(grandchildren, into: database)
        let children = try grandchildren.enumerated().map { index, grandchild in
            try Sibling().with { $0.name = "child \(index)"; try $0.$next.set(grandchild) }
        }
        try await Sibling.insert(children, into: database)
        let parents = try (0..<count).map { index in
            try Sibling().with { parent in
                parent.name = "parent \(index)"
                try parent.$next.set(children[index])
                try parent.$kin.set([children[index], children[(index + 1) % count]])
            }
        }
        try await Sibling.insert(parents, into: database)
    }
}
