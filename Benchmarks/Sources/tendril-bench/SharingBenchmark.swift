import Foundation
import HeapStats
import Tendril

/// What many parents sharing their targets retain, per cache scope: P parents each resolve R
/// references drawn (seeded, with repeats) from U unique targets, reading each target's name.
///
/// For each policy: load the P parents one by one (as separate requests would: no parent is a
/// peer of another, so per-parent caches share nothing), measure the live heap (glibc `mallinfo2`,
/// tcache off, `malloc_trim(0)`), resolve every parent's list, measure again with the parents
/// (and the pool) alive and the resolved documents dropped. A row shows the median of
/// ``readingsPerRow`` readings and what the caches report: resident documents and BSON bytes
/// (summed over the parents' caches, or the pool's), and the `find` commands sent.
///
/// Expectations (issue 16): `pooled` keeps exactly the unique targets touched and retains at
/// most 1.5x their BSON; `pooled_64k` keeps at most 65,536 BSON bytes; `compact` retains at most
/// 1.15x the BSON it keeps.
struct SharingBenchmark {
    static let columns = [
        "policy", "parents", "refs_per_parent", "unique_targets", "retained_bytes", "resident_docs",
        "resident_bson_bytes", "queries",
    ]
    static let policyNames = ["strong", "pooled", "pooled_64k", "compact"]
    static let readingsPerRow = 3
    /// One heap reading's noise with nothing retained (see ``GrowthBenchmark/readingNoise``).
    static let readingNoise = 2_000.0
    static let seed: UInt64 = 16

    let parents: Int, refsPerParent: Int, uniqueTargets: Int

    struct Row {
        let policy: String, parents: Int, refsPerParent: Int, uniqueTargets: Int
        let retained: HeapFigure
        let residentDocs: Int, residentBSONBytes: Int, queries: Int
        /// Distinct targets the parents' lists name.
        let touched: Int

        var cells: [String] {
            [policy, "\(parents)", "\(refsPerParent)", "\(uniqueTargets)", retained.cell, "\(residentDocs)",
             "\(residentBSONBytes)", "\(queries)"]
        }
    }

    func run(in database: MongoDatabase, recorder: QueryCounter) async throws -> [Row] {
        Progress.show("seeding \(uniqueTargets) targets and \(parents) parents")
        let (parentIDs, touched) = try await seed(in: database)
        for name in Self.policyNames {
            Progress.show("warming up \(name)")
            _ = try await measure(name, parentIDs: parentIDs, touched: touched, in: database, recorder: recorder)
        }
        var rows: [Row] = []
        for (index, name) in Self.policyNames.enumerated() {
            Progress.show("[\(index + 1)/\(Self.policyNames.count)] \(name)")
            rows.append(try await measure(name, parentIDs: parentIDs, touched: touched, in: database, recorder: recorder))
        }
        Progress.done()
        return rows
    }

    /// Inserts the targets and the parents, each listing `refsPerParent` targets drawn with
    /// ``seed``; returns the parents' ids and how many distinct targets they name.
    private func seed(in database: MongoDatabase) async throws -> ([ObjectID], Int) {
        let bio = String(String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 4).prefix(200))
        let targets = (0..<uniqueTargets).map { index in
            let target = GrowthPerson()
            target.name = "target \(index)"
            target.bio = bio
            target.age = 20 + index % 60
            target.tags = ["music", "chess", "climbing", "cooking", "travel"]
            return target
        }
        try await GrowthPerson.insert(targets, into: database)
        var random = SplitMix64(seed: Self.seed)
        var touched = Set<ObjectID>()
        var parents: [GrowthPerson] = []
        for index in 0..<self.parents {
            let parent = GrowthPerson()
            parent.name = "parent"
            parent.bio = "parent \(index)"
            parent.friends = (0..<refsPerParent).compactMap { _ in targets[Int.random(in: 0..<uniqueTargets, using: &random)].id }
            touched.formUnion(parent.friends)
            parents.append(parent)
        }
        try await GrowthPerson.insert(parents, into: database)
        return (parents.compactMap(\.id), touched.count)
    }

    /// The policy `name` stands for, and the pool behind it (nil: per-parent caches).
    private static func policy(_ name: String) -> (CachePolicy, ReferencePool?) {
        switch name {
        case "pooled":
            let pool = ReferencePool()
            return (.pooled(pool), pool)
        case "pooled_64k":
            let pool = ReferencePool(maxBytes: 65_536)
            return (.pooled(pool), pool)
        case "compact": return (.lru(keep: .bytes), nil)
        default: return (.strong, nil)
        }
    }

    private func measure(_ name: String, parentIDs: [ObjectID], touched: Int, in database: MongoDatabase,
                         recorder: QueryCounter) async throws -> Row {
        var retained: [Double] = []
        var residentDocs = 0, residentBytes = 0, queries = 0
        for reading in 0..<Self.readingsPerRow {
            let (policy, pool) = Self.policy(name)
            var parents: [GrowthPerson] = []
            for id in parentIDs {
                parents.append(try await GrowthPerson.objects.using(database).cachePolicy(policy).get(id).unwrapped("parent"))
            }
            try await Task.sleep(for: .milliseconds(20))
            recorder.reset()
            let baseline = tendril_live_heap_bytes()
            try Self.resolveEveryList(of: parents)
            try await Task.sleep(for: .milliseconds(20))
            retained.append(Double(tendril_live_heap_bytes() - baseline))
            if reading == 0 {
                queries = recorder.findCount
                if let pool {
                    residentDocs = pool.statistics.residentCount
                    residentBytes = pool.statistics.residentBytes
                } else {
                    residentDocs = parents.reduce(0) { $0 + $1.referenceCache.statistics.residentCount }
                    residentBytes = parents.reduce(0) { $0 + $1.referenceCache.statistics.residentBytes }
                }
            }
            withExtendedLifetime((parents, pool)) {}
        }
        return Row(policy: name, parents: parents, refsPerParent: refsPerParent, uniqueTargets: uniqueTargets,
                   retained: HeapFigure(readings: retained, floor: Self.readingNoise), residentDocs: residentDocs,
                   residentBSONBytes: residentBytes, queries: queries, touched: touched)
    }

    /// Resolves every parent's list and reads each target's name; the targets are dropped on return.
    private static func resolveEveryList(of parents: [GrowthPerson]) throws {
        var characters = 0
        for parent in parents {
            for target in try parent.$friends.blockingValues() { characters += target.name.utf8.count }
        }
        precondition(characters > 0, "every list resolved")
    }
}
