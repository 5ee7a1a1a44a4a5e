import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Compact residency (issue 16, item 2): documents kept as their BSON bytes only, hydrated on
/// each access, within the budget.
@Suite("References: documents kept as bytes")
struct CompactResidencyTests {
    @Test("each access hydrates a new instance from the kept bytes, with no query")
    func hydratesEachAccess() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, _) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(.lru(maxBytes: 1 << 20, keep: .bytes))
                .get(parentID).unwrapped()
            recorder.reset()
            let first = try await parent.$friends.value(at: 1)
            first.name = "changed, not saved"
            let second = try await parent.$friends.value(at: 1)
            #expect(first !== second, "identity does not hold for entries kept as bytes")
            #expect(second.name == "friend 1", "hydrated from the bytes fetched")
            #expect(recorder.count(of: "find") == 1)
            let statistics = parent.referenceCache.statistics
            #expect(statistics.hits == 1 && statistics.misses == 1 && statistics.residentCount == 1)
            #expect(parent.referenceCache.policy.description == "lru-bytes(1048576 bytes)")
        }
    }

    @Test("a byte budget holds exactly; the least recently used bytes leave first")
    func staysWithinBudget() async throws {
        try await TestServer.withDatabase { database, recorder in
            let (parentID, friendIDs) = try await PalFixture.seed(30, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(.lru(maxBytes: 4_000, keep: .bytes))
                .get(parentID).unwrapped()
            let names = try await parent.$friends.values.map(\.name)
            #expect(names == (0..<30).map { "friend \($0)" })
            let statistics = parent.referenceCache.statistics
            #expect(statistics.residentBytes <= 4_000 && statistics.residentBytes > 4_000 - 400)
            #expect(statistics.residentCount + statistics.evictions == 30)
            recorder.reset()
            _ = try await parent.referenceCache.document(Pal.self, id: friendIDs[29])
            #expect(recorder.count(of: "find") == 0, "the newest is kept")
            _ = try await parent.referenceCache.document(Pal.self, id: friendIDs[0])
            #expect(recorder.count(of: "find") == 1, "the oldest was evicted")
        }
    }

    @Test("a pool keeping bytes gives the live instance while held, and keeps saved bytes current")
    func poolKeepingBytes() async throws {
        try await TestServer.withDatabase { database, _ in
            let (_, friendIDs) = try await PalFixture.seed(3, in: database)
            let pool = ReferencePool(maxBytes: 1 << 20, keep: .bytes)
            let held = try await pool.document(Pal.self, id: friendIDs[0], in: database)
            #expect(try await pool.document(Pal.self, id: friendIDs[0], in: database) === held)
            held.name = "saved"
            try await held.save()
            let renamed = try await Self.nameThroughPool(pool, id: friendIDs[0], in: database)
            #expect(renamed == "saved")
            #expect(pool.statistics.residentCount == 1)
        }
    }

    /// The name of the document `id`, fetched through `pool` by a caller that holds nothing.
    static func nameThroughPool(_ pool: ReferencePool, id: ObjectID, in database: MongoDatabase) async throws -> String {
        try await pool.document(Pal.self, id: id, in: database).name
    }

    @Test("the table stays consistent through inserts, evictions, hits and removals (no server)")
    func tableConsistency() throws {
        let storage = CompactLRUStorage(budget: CacheBudget(capacity: 64, maxBytes: nil))
        let documents = try (0..<300).map { index -> (ObjectID, Pal) in
            let id = ObjectID()
            let bson: BSONDocument = ["_id": .objectID(id), "name": .string("pal \(index)"), "age": .int64(Int64(index))]
            return (id, try Pal.hydrate(try BSONDocument(bytes: bson.bytes)))
        }
        var evicted = 0
        for (id, document) in documents {
            evicted += storage.store(document, for: ReferenceKey(Pal.self, id: id), cost: 1).count
        }
        #expect(storage.residentCount == 64 && evicted == 236)
        for (index, (id, _)) in documents.enumerated() {
            let lookup = storage.lookUp(ReferenceKey(Pal.self, id: id))
            if index >= 236 {
                guard case .hit(let found as Pal) = lookup else { Issue.record("missing \(index)"); continue }
                #expect(found.name == "pal \(index)" && found.id == id)
            } else if case .hit = lookup {
                Issue.record("evicted \(index) still served")
            }
        }
        for (id, _) in documents[236..<268] { #expect(storage.remove(ReferenceKey(Pal.self, id: id))) }
        #expect(storage.residentCount == 32)
        for (index, (id, _)) in documents.enumerated() where index >= 268 {
            guard case .hit(let found as Pal) = storage.lookUp(ReferenceKey(Pal.self, id: id)) else {
                Issue.record("missing \(index) after removals")
                continue
            }
            #expect(found.age == index)
        }
        #expect(!storage.remove(ReferenceKey(Follower.self, id: documents[299].0)), "another class, another key")
        storage.removeAll()
        #expect(storage.residentCount == 0 && storage.residentBytes == 0)
    }
}
