import Foundation
import HeapStats
import Tendril

/// The growth experiment's person: a name, a 200-character bio, an age, 5 tags and friends.
final class GrowthPerson: Document {
    override class var collectionName: String { "people" }
    @Field var name = ""
    @Field var bio = ""
    @Field var age = 0
    @Field var tags: [String] = []
    @ReferenceList<GrowthPerson> var friends
}

/// How much a parent grows as its references are resolved, per cache policy and access pattern.
///
/// For each N, policy and pattern: load the parent fresh, resolve every friend reading its
/// name, drop the friends, keep the parent; measure the live heap growth (glibc `mallinfo2`,
/// tcache off, `malloc_trim(0)` before each reading, after a warm-up), the cache's residents,
/// queries and time; then a second pass; then `reload()` and what stays after it.
///
/// One heap reading varies by about ±2 KB whatever is measured (``readingNoise``), so each
/// reading measures ``parentsPerReading`` parents at once and divides, and a row shows the
/// median of ``readingsPerRow`` readings with its noise: the larger of half their spread and
/// of a reading's noise shared among its parents. A figure within it is shown as noise,
/// `0 (±500 B)`, never as a negative retention.
///
/// Expectations (issue 5): `none` retains under 2 KB at N = 1000; `lru16` stops growing after
/// 16 references; `weak` retains under 2 KB once the friends are dropped; `strong` retains at
/// most 2x the friends' BSON bytes.
struct GrowthBenchmark {
    static let policies: [(name: String, policy: CachePolicy)] = [
        ("strong", .strong), ("none", .none), ("lru16", .lru(capacity: 16)), ("lru64", .lru(capacity: 64)), ("weak", .weak),
    ]
    static let patterns = ["one_by_one", "batched"]
    static let columns = [
        "policy", "pattern", "refs", "retained_bytes", "retained_bytes_per_ref", "resident_docs", "resident_bson_bytes",
        "queries_first_pass", "queries_second_pass", "first_pass_ms", "second_pass_ms", "retained_after_reload_bytes",
    ]

    /// Parents measured by one heap reading (its noise is shared among them).
    static let parentsPerReading = 4
    /// Readings per row, of which the row shows the median.
    static let readingsPerRow = 3
    /// How far one heap reading strays with nothing retained, in bytes: about ±2 KB on the
    /// machine of docs/benchmarks.md (single readings of `.none` and `.weak` ranged from
    /// -1,232 to +1,136 there). Half the spread of a row's readings counts when larger.
    static let readingNoise = 2_000.0

    let sizes: [Int]

    struct Row {
        let policy: String, pattern: String, refs: Int
        /// Per parent, with its noise.
        let retained: HeapFigure
        let residentDocs: Int, residentBSONBytes: Int
        let queriesFirstPass: Int, queriesSecondPass: Int
        let firstPassMilliseconds: Double, secondPassMilliseconds: Double
        let retainedAfterReload: HeapFigure

        var cells: [String] {
            [policy, pattern, "\(refs)", retained.cell, retained.cell(per: refs), "\(residentDocs)",
             "\(residentBSONBytes)", "\(queriesFirstPass)", "\(queriesSecondPass)", firstPassMilliseconds.formatted(2),
             secondPassMilliseconds.formatted(2), retainedAfterReload.cell]
        }
    }

    func run(in database: MongoDatabase, recorder: QueryCounter) async throws -> [Row] {
        var parents: [Int: ObjectID] = [:]
        for size in sizes {
            Progress.show("seeding a person with \(size) friends")
            parents[size] = try await Self.seed(friends: size, in: database)
        }
        // Warm-up: every policy and pattern once at the largest N, so one-time allocations
        // (schemas, type metadata, connections, threads, libmongoc's reply buffers at their
        // largest) are not counted as growth.
        let largest = try sizes.max().unwrapped("a size")
        for (_, policy) in Self.policies {
            for pattern in Self.patterns {
                Progress.show("warming up")
                _ = try await measure(try parents[largest].unwrapped("parent"), refs: largest, policy: policy, pattern: pattern,
                                      policyName: "", in: database, recorder: recorder)
            }
        }
        var rows: [Row] = []
        let total = sizes.count * Self.policies.count * Self.patterns.count
        for size in sizes {
            let parent = try parents[size].unwrapped("parent for \(size)")
            for (name, policy) in Self.policies {
                for pattern in Self.patterns {
                    Progress.show("[\(rows.count + 1)/\(total)] \(name), \(pattern), \(size) friends")
                    rows.append(try await measure(parent, refs: size, policy: policy, pattern: pattern, policyName: name,
                                                  in: database, recorder: recorder))
                }
            }
        }
        Progress.done()
        return rows
    }

    /// Inserts `count` friends and a person referencing them all; returns the person's id.
    static func seed(friends count: Int, in database: MongoDatabase) async throws -> ObjectID {
        let bio = String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 4).prefix(200)
        let friends = (0..<count).map { index in
            let friend = GrowthPerson()
            friend.name = "friend \(index)"
            friend.bio = String(bio)
            friend.age = 20 + index % 60
            friend.tags = ["music", "chess", "climbing", "cooking", "travel"]
            return friend
        }
        for start in stride(from: 0, to: friends.count, by: 1000) {
            try await GrowthPerson.insert(Array(friends[start..<min(start + 1000, friends.count)]), into: database)
        }
        let parent = GrowthPerson()
        parent.name = "parent of \(count)"
        parent.friends = friends.compactMap(\.id)
        try await parent.insert(into: database)
        return try parent.id.unwrapped("parent id")
    }

    /// `parentsPerReading` fresh copies of the parent (each with a cache of its own).
    private func loadParents(_ parentID: ObjectID, policy: CachePolicy, in database: MongoDatabase) async throws -> [GrowthPerson] {
        var parents: [GrowthPerson] = []
        for _ in 0..<Self.parentsPerReading {
            parents.append(try await GrowthPerson.objects.using(database).cachePolicy(policy).get(parentID).unwrapped("parent"))
        }
        return parents
    }

    /// Bytes of a heap reading taken over `parentsPerReading` parents, per parent.
    private func perParent(_ bytes: Int) -> Double { Double(bytes) / Double(Self.parentsPerReading) }

    private func measure(_ parentID: ObjectID, refs: Int, policy: CachePolicy, pattern: String, policyName: String,
                         in database: MongoDatabase, recorder: QueryCounter) async throws -> Row {
        var retained: [Double] = [], afterReload: [Double] = [], firstPasses: [Double] = []
        var statistics = ReferenceCacheStatistics()
        var queriesFirstPass = 0, queriesSecondPass = 0, secondPass = 0.0
        for reading in 0..<Self.readingsPerRow {
            let parents = try await loadParents(parentID, policy: policy, in: database)
            try await settle()
            recorder.reset()
            let baseline = tendril_live_heap_bytes()
            for parent in parents { firstPasses.append(try milliseconds { try readEveryFriend(of: parent, pattern: pattern) }.1) }
            retained.append(perParent(tendril_live_heap_bytes() - baseline))
            if reading == 0 {
                let first = try parents.first.unwrapped("a parent")
                queriesFirstPass = recorder.findCount / Self.parentsPerReading
                statistics = first.referenceCache.statistics
                recorder.reset()
                secondPass = try milliseconds { try readEveryFriend(of: first, pattern: pattern) }.1
                queriesSecondPass = recorder.findCount
            }
            for parent in parents { try await parent.reload(from: database) }
            try await settle()
            afterReload.append(perParent(tendril_live_heap_bytes() - baseline))
        }
        return Row(policy: policyName, pattern: pattern, refs: refs, retained: HeapFigure(readings: retained, floor: Self.readingNoise / Double(Self.parentsPerReading)),
                   residentDocs: statistics.residentCount, residentBSONBytes: statistics.residentBytes,
                   queriesFirstPass: queriesFirstPass, queriesSecondPass: queriesSecondPass,
                   firstPassMilliseconds: firstPasses.reduce(0, +) / Double(max(firstPasses.count, 1)),
                   secondPassMilliseconds: secondPass,
                   retainedAfterReload: HeapFigure(readings: afterReload, floor: Self.readingNoise / Double(Self.parentsPerReading)))
    }

    /// Lets work handed to other threads finish (a dropped cursor is closed on Tendril's
    /// threads), so it is not counted in the next heap reading.
    private func settle() async throws {
        try await Task.sleep(for: .milliseconds(20))
    }

    /// Resolves every friend and reads its name; the friends are dropped on return.
    private func readEveryFriend(of parent: GrowthPerson, pattern: String) throws -> Int {
        var characters = 0
        if pattern == "batched" {
            for friend in try parent.$friends.blockingValues() { characters += friend.name.utf8.count }
        } else {
            for index in 0..<parent.$friends.count { characters += try parent.$friends.blockingValue(at: index).name.utf8.count }
        }
        return characters
    }
}

extension Optional {
    func unwrapped(_ what: String) throws -> Wrapped {
        guard let self else { throw ValidationFailure("missing \(what)") }
        return self
    }
}
