import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("References: long lists, O(1) positions")
struct ReferenceStreamTests {
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
            try await parent.save()   // the bytes are replaced; load-time locations are gone
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
            #expect(try parent.$friends.resolve(at: 0).id == friendIDs[5])
            #expect(try parent.$friends.resolve(at: 12).id == friendIDs[11])
            #expect { try parent.$friends.resolve(at: 13) } throws: { error in
                (error as? DocumentError)?.kind == .indexOutOfRange(index: 13, count: 13)
            }
        }
    }
}
