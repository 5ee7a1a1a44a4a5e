import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Counts its live instances, for the test that bounds a stream's memory by one window (used by
/// no other test: tests run in parallel).
final class Streamed: Document {
    static let live = Locked(0)
    @Field var name = ""

    required init() {
        super.init()
        Self.live.withLock { $0 += 1 }
    }
    deinit { Self.live.withLock { $0 -= 1 } }
}

/// A parent of `Streamed` documents.
final class Streamer: Document {
    @ReferenceList<Streamed> var items
}

@Suite("References: long lists, O(1) positions and read-ahead streaming")
struct ReferenceStreamTests {
    /// The number of ids in the `$in` of every `find` sent since the recorder's last reset.
    private func inSizes(_ recorder: CommandRecorder) -> [Int] {
        recorder.commands(named: "find").map { $0["filter"]?.documentValue?["_id"]?.documentValue?["$in"]?.arrayValue?.count ?? 0 }
    }

    private func isDangling(_ error: any Error, id: ObjectID) -> Bool {
        guard let error = error as? DocumentError else { return false }
        return error.kind == .danglingReference && error.documentID == .objectID(id) && error.collection == "Pal"
    }

    // MARK: value(at:) and count

    @Test("value(at:) and count read a 100,000-id list through one index, built once and shared by every thread")
    func positionsThroughOneIndex() async throws {
        try await TestServer.withDatabase { database, _ in
            let ids = (0..<100_000).map { _ in ObjectID() }
            let stored = Pal()
            stored.friends = ids
            try await stored.insert(into: database)
            let parent = try await Pal.objects.using(database).get(stored.id.unwrapped()).unwrapped()
            let slot = try parent.schema.slot(forProjected: \Pal.$friends).unwrapped()
            #expect(parent.$friends.count == 100_000)
            let index = try parent.storedIDList(at: slot).unwrapped()
            for position in [0, 1, 9, 10, 99, 100, 50_000, 99_999] {
                #expect(parent.objectID(inListAt: slot, index: position) == ids[position])
            }
            #expect(parent.objectID(inListAt: slot, index: 100_000) == nil)
            #expect(parent.objectID(inListAt: slot, index: -1) == nil)
            #expect(parent.storedIDList(at: slot) === index, "built once, then kept")

            // A document a cache shares is read from several threads: one index all the same.
            // Shared as a reference cache shares it (the document contract allows reading it from threads).
            nonisolated(unsafe) let fresh = try await Pal.objects.using(database).get(stored.id.unwrapped()).unwrapped()
            let built = Locked<[ObjectIdentifier]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                let list = fresh.storedIDList(at: slot)
                #expect(fresh.objectID(inListAt: slot, index: thread * 12_345) == ids[thread * 12_345])
                if let list { built.withLock { $0.append(ObjectIdentifier(list)) } }
            }
            #expect(built.withLock { Set($0) }.count == 1)
            #expect(built.withLock { $0.count } == 8)
        }
    }

    @Test("the index is dropped when the stored bytes are replaced, and read through the key after a save")
    func indexFollowsTheStoredBytes() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(12, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped()
            let slot = try parent.schema.slot(forProjected: \Pal.$friends).unwrapped()
            let loaded = try parent.storedIDList(at: slot).unwrapped()

            parent.name = "renamed"
            try await parent.save()   // the bytes are replaced (and matched to the fields again)
            let saved = try parent.storedIDList(at: slot).unwrapped()
            #expect(saved !== loaded)
            #expect(saved.count == 12 && saved[11] == friendIDs[11])

            try await parent.reload()
            #expect(try parent.storedIDList(at: slot).unwrapped() !== saved)
            recorder.reset()
            #expect(try await parent.$friends.value(at: 11).id == friendIDs[11])
            #expect(recorder.count(of: "find") == 1)

            // Changed and unsaved: positions come from the current list, no stored index is used.
            parent.friends.insert(friendIDs[5], at: 0)
            #expect(parent.storedIDList(at: slot) == nil)
            #expect(parent.$friends.count == 13)
            #expect(try await parent.$friends.value(at: 0).id == friendIDs[5])
            #expect(try await parent.$friends.value(at: 12).id == friendIDs[11])
            #expect { try parent.$friends.blockingValue(at: 13) } throws: { error in
                (error as? DocumentError)?.kind == .indexOutOfRange(index: 13, count: 13)
            }
        }
    }

    // MARK: the async sequence

    @Test("the sequence sends one $in per window of 100 ids and yields in stored order, duplicates kept")
    func windowsInOrderWithDuplicates() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(250, in: database)
            // 260 references: a duplicate beside its first occurrence, and 9 ids repeated at the end.
            let stored = try await Pal.objects.using(database).get(parentID).unwrapped()
            stored.friends = [friendIDs[0]] + friendIDs + Array(friendIDs[0..<9])
            try await stored.save()
            let expected = try stored.friends.map { id in "friend \(try #require(friendIDs.firstIndex(of: id)))" }

            let parent = try await Pal.objects.using(database).noCache().get(parentID).unwrapped()
            recorder.reset()
            var names: [String] = []
            for try await friend in parent.$friends { names.append(friend.name) }
            #expect(names == expected)
            #expect(recorder.count(of: "find") == 3)
            #expect(inSizes(recorder) == [99, 100, 60], "each window's distinct ids; .none keeps nothing between windows")

            recorder.reset()
            names = []
            for try await friend in parent.$friends.readingAhead(500) { names.append(friend.name) }
            #expect(names == expected)
            #expect(inSizes(recorder) == [250])

            recorder.reset()
            var count = 0
            for try await _ in parent.$friends.readingAhead(0) { count += 1 }   // below 1: one at a time
            #expect(count == 260)
            #expect(recorder.count(of: "find") == 260)
        }
    }

    @Test("documents the cache keeps are served, not fetched again")
    func residentsAreServed() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(150, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(.strong).get(parentID).unwrapped()
            _ = try await parent.$friends.value(at: 3)
            _ = try await parent.$friends.value(at: 120)
            recorder.reset()
            var ids: [ObjectID] = []
            for try await friend in parent.$friends { ids.append(try friend.id.unwrapped()) }
            #expect(ids == friendIDs)
            #expect(inSizes(recorder) == [99, 49])
            recorder.reset()
            for try await _ in parent.$friends {}
            #expect(recorder.count(of: "find") == 0, "all kept now")
        }
    }

    @Test("what stays afterwards is the policy's", arguments: [
        ("none", CachePolicy.none, 0), ("strong", CachePolicy.strong, 250), ("lru16", CachePolicy.lru(capacity: 16), 16),
    ])
    func residentsPerPolicy(name: String, policy: CachePolicy, residents: Int) async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(250, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(policy).get(parentID).unwrapped()
            var count = 0
            for try await _ in parent.$friends { count += 1 }
            #expect(count == 250)
            #expect(parent.referenceCache.statistics.residentCount == residents)
            // The last `residents` references are the ones kept: resolving them sends nothing.
            recorder.reset()
            for index in (250 - residents)..<250 { #expect(try await parent.$friends.value(at: index).id == friendIDs[index]) }
            #expect(recorder.count(of: "find") == 0)
        }
    }

    @Test("memory is bounded by one window: at most 100 documents alive while streaming under .none")
    func boundedByOneWindow() async throws {
        try await TestServer.withDatabase { database, recorder in
            let items = (0..<350).map { index in
                let item = Streamed()
                item.name = "item \(index)"
                return item
            }
            try await Streamed.insert(items, into: database)
            let stored = Streamer()
            stored.items = items.compactMap(\.id)
            try await stored.insert(into: database)
            let ids = stored.items
            let parentID = try stored.id.unwrapped()
            _ = consume items
            _ = consume stored
            // What stays alive regardless (the schema's prototype, once built).
            let baseline = Streamed.live.withLock { $0 }

            let parent = try await Streamer.objects.using(database).noCache().get(parentID).unwrapped()
            recorder.reset()
            var mostAlive = 0
            var seen: [ObjectID] = []
            for try await item in parent.$items {
                seen.append(try item.id.unwrapped())
                mostAlive = max(mostAlive, Streamed.live.withLock { $0 } - baseline)
            }
            #expect(seen == ids)
            #expect(mostAlive == 100)
            #expect(recorder.count(of: "find") == 4)
            #expect(Streamed.live.withLock { $0 } == baseline, ".none keeps nothing afterwards")
            #expect(parent.referenceCache.statistics.residentCount == 0)
        }
    }

    @Test("a dangling id throws at its position, after the documents before it")
    func danglingAtPosition() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(150, in: database)
            try await database.collection("Pal").deleteOne(["_id": .objectID(friendIDs[120])])
            let parent = try await Pal.objects.using(database).noCache().get(parentID).unwrapped()
            recorder.reset()
            var names: [String] = []
            var iterator = parent.$friends.makeAsyncIterator()
            await #expect { while let friend = try await iterator.next() { names.append(friend.name) } } throws: { error in
                isDangling(error, id: friendIDs[120])
            }
            #expect(names == (0..<120).map { "friend \($0)" })
            #expect(recorder.count(of: "find") == 2)
            #expect(try await iterator.next() == nil, "an iterator ends after throwing")
            #expect(recorder.count(of: "find") == 2)
        }
    }

    @Test("a changed list streams its current ids")
    func changedListStreamsCurrentIDs() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(5, in: database)
            let parent = try await Pal.objects.using(database).noCache().get(parentID).unwrapped()
            parent.friends = [friendIDs[4], friendIDs[4], friendIDs[0]]
            recorder.reset()
            var names: [String] = []
            for try await friend in parent.$friends { names.append(friend.name) }
            #expect(names == ["friend 4", "friend 4", "friend 0"])
            #expect(inSizes(recorder) == [2])
        }
    }

    @Test("a dictionary streams (key, document) in key order, a window per $in, dangling at its key")
    func dictionaryStreams() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(150, in: database)
            let stored = try await Pal.objects.using(database).get(parentID).unwrapped()
            var roles: [String: ObjectID] = [:]
            for index in 0..<150 { roles[String(format: "k%03d", index)] = friendIDs[index] }
            roles["k150"] = friendIDs[0]   // two keys, one id: both yielded
            stored.roles = roles
            try await stored.save()

            let parent = try await Pal.objects.using(database).noCache().get(parentID).unwrapped()
            recorder.reset()
            var pairs: [String] = []
            for try await (key, friend) in parent.$roles { pairs.append("\(key)=\(friend.name)") }
            #expect(pairs == (0..<150).map { String(format: "k%03d=friend %d", $0, $0) } + ["k150=friend 0"])
            #expect(inSizes(recorder) == [100, 51])

            recorder.reset()
            var count = 0
            for try await _ in parent.$roles.readingAhead(1000) { count += 1 }
            #expect(count == 151 && inSizes(recorder) == [150])

            try await database.collection("Pal").deleteOne(["_id": .objectID(friendIDs[42])])
            var keys: [String] = []
            await #expect { for try await (key, _) in parent.$roles { keys.append(key) } } throws: { error in
                isDangling(error, id: friendIDs[42])
            }
            #expect(keys == (0..<42).map { String(format: "k%03d", $0) })
        }
    }
}
