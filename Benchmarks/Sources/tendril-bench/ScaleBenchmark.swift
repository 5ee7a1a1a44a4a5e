import Foundation
import HeapStats
import Tendril

/// The scale experiment's person: a name, a 200-character bio and friends.
final class ScalePerson: Document {
    override class var collectionName: String { "scale_people" }
    @Field var name = ""
    @Field var bio = ""
    @ReferenceList<ScalePerson> var friends
}

/// Visiting every reference of one parent with N references, under `.none`, in the three ways
/// Tendril offers: `value_at` (`for i in 0..<count { value(at: i) }`, one query per reference),
/// `sequence` (`for try await friend in parent.$friends`, one `$in` per window of 100) and
/// `values` (the whole list at once, one `$in` per 1,000 ids).
///
/// For each access and N: load the parent fresh, read the live heap (glibc `mallinfo2`, tcache
/// off, trimmed) just after, then visit every friend reading its name, sampling the heap in use
/// every few references; `heap_min_bytes`/`heap_max_bytes` are the least and most of those samples
/// above the reading after loading. CPU time is the client process's (`getrusage`: user +
/// system, all threads, the sampling's own CPU left out), so the server's work is not counted;
/// `wall_seconds` includes the server's.
///
/// Expectations (issue 13): `sequence` sends at most refs/100 queries with heap max - min under
/// 1 MB at any N; `value_at`'s CPU per reference stays within 1.5x from 1,000 to 100,000
/// references (finding the id at an index is O(1)).
struct ScaleBenchmark {
    static let columns = ["access", "refs", "queries", "cpu_seconds", "cpu_us_per_ref", "heap_min_bytes", "heap_max_bytes",
                          "wall_seconds"]
    static let accesses = ["value_at", "sequence", "values"]
    /// The most references `value_at` visits: one query each, so 800,000 would take the local
    /// server about 9 minutes (100,000 take about 66 s); `--quick` stops at 10,000.
    static func valueAtLimit(quick: Bool) -> Int { quick ? 10_000 : 100_000 }
    /// The most references one parent can hold: its ids must fit in one BSON document (16 MiB).
    static let documentLimit = 16 * 1024 * 1024

    let sizes: [Int]
    /// The most references `value_at` visits (see ``valueAtLimit(quick:)``).
    let valueAtLimit: Int

    struct Row {
        let access: String, refs: Int, queries: Int
        let cpuSeconds: Double, heapMinBytes: Int, heapMaxBytes: Int, wallSeconds: Double

        var cpuMicrosecondsPerReference: Double { cpuSeconds * 1e6 / Double(refs) }

        var cells: [String] {
            [access, "\(refs)", "\(queries)", cpuSeconds.formatted(3), cpuMicrosecondsPerReference.formatted(1), "\(heapMinBytes)",
             "\(heapMaxBytes)", wallSeconds.formatted(2)]
        }
    }

    /// The BSON size of a parent holding `refs` ids (its array's keys are "0", "1", ...).
    static func parentByteCount(refs: Int) -> Int {
        var keyDigits = 0, width = 1, start = 0
        while start < refs {
            let end = min(refs, start == 0 ? 10 : start * 10)
            keyDigits += (end - start) * width
            (start, width) = (end, width + 1)
        }
        // Per id: type byte, key, its NUL, 12 bytes; plus the document's and the array's framing,
        // `_id`, the name and the bio.
        return refs * 14 + keyDigits + 400
    }

    func run(in database: MongoDatabase, counter: QueryCounter) async throws -> [Row] {
        let friendIDs = try await seedFriends(sizes.max() ?? 0, in: database)
        var parents: [Int: ObjectID] = [:]
        for size in sizes {
            Progress.show("seeding a parent with \(size) references")
            parents[size] = try await seedParent(Array(friendIDs.prefix(size)), in: database)
        }
        // Warm-up: each access once at the smallest N (schemas, connections, threads).
        let smallest = try sizes.min().unwrapped("a size")
        for access in Self.accesses {
            Progress.show("warming up: \(access)")
            _ = try await measure(access, parent: try parents[smallest].unwrapped("parent"), refs: smallest, in: database, counter: counter)
        }
        var rows: [Row] = []
        for access in Self.accesses {
            for size in sizes where access != "value_at" || size <= valueAtLimit {
                Progress.show("\(access), \(size) references")
                rows.append(try await measure(access, parent: try parents[size].unwrapped("parent"), refs: size, in: database,
                                              counter: counter))
            }
        }
        Progress.done()
        return rows
    }

    /// Inserts `count` friends (a name and a 200-character bio), 1,000 per command; returns their ids.
    private func seedFriends(_ count: Int, in database: MongoDatabase) async throws -> [ObjectID] {
        let collection = database.collection(ScalePerson.collectionName)
        let bio = String(String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 4).prefix(200))
        var ids: [ObjectID] = []
        ids.reserveCapacity(count)
        for start in stride(from: 0, to: count, by: 1000) {
            Progress.show("seeding friends: \(start)/\(count)")
            let chunk = (start..<min(start + 1000, count)).map { index -> BSONDocument in
                let id = ObjectID()
                ids.append(id)
                return ["_id": .objectID(id), "name": .string("friend \(index)"), "bio": .string(bio)]
            }
            try await collection.insertMany(chunk)
        }
        return ids
    }

    /// Inserts a parent referencing `friends`; returns its id.
    private func seedParent(_ friends: [ObjectID], in database: MongoDatabase) async throws -> ObjectID {
        let parent = ScalePerson()
        parent.name = "parent of \(friends.count)"
        parent.friends = friends
        try await parent.insert(into: database)
        return try parent.id.unwrapped("parent id")
    }

    private func measure(_ access: String, parent parentID: ObjectID, refs: Int, in database: MongoDatabase,
                         counter: QueryCounter) async throws -> Row {
        let parent = try await ScalePerson.objects.using(database).cachePolicy(.none).get(parentID).unwrapped("parent")
        try await Task.sleep(for: .milliseconds(20))   // lets work handed to other threads finish
        let heap = HeapRange()
        // Sampling every few references, never in step with the windows of 100.
        let sampleEvery = min(37, max(1, refs / 1000))
        counter.reset()
        let wallStart = ContinuousClock.now
        let cpuStart = cpuSeconds()
        var visited = 0, characters = 0
        func visit(_ friend: ScalePerson) {
            characters &+= friend.name.utf8.count
            visited += 1
            if visited % sampleEvery == 0 { heap.sample() }
        }
        switch access {
        case "value_at":
            for index in 0..<parent.$friends.count { visit(try await parent.$friends.value(at: index)) }
        case "sequence":
            for try await friend in parent.$friends { visit(friend) }
        default:
            for friend in try await parent.$friends.values { visit(friend) }
        }
        let cpu = cpuSeconds() - cpuStart - heap.overhead
        let wall = ContinuousClock.now - wallStart
        guard visited == refs, characters > 0 else { throw ValidationFailure("\(access) visited \(visited) of \(refs)") }
        return Row(access: access, refs: refs, queries: counter.findCount, cpuSeconds: cpu, heapMinBytes: heap.least,
                   heapMaxBytes: heap.most, wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
    }

    /// The least and most heap in use seen while iterating, above the live heap when created.
    final class HeapRange {
        let baseline = tendril_live_heap_bytes()
        private(set) var least = Int.max
        private(set) var most = Int.min
        /// CPU seconds spent sampling (`mallinfo2` walks every arena), left out of the figure.
        private(set) var overhead = 0.0

        func sample() {
            let start = cpuSeconds()
            let bytes = tendril_heap_in_use_bytes() - baseline
            least = min(least, bytes)
            most = max(most, bytes)
            overhead += cpuSeconds() - start
        }
    }
}

extension ScaleBenchmark {
    /// One line per target: met or missed, with the figures.
    static func verdicts(_ rows: [Row]) -> [String] {
        var lines: [String] = []
        for row in rows where row.access == "sequence" {
            let queriesMet = row.queries * 100 <= row.refs
            let spread = row.heapMaxBytes - row.heapMinBytes
            lines.append("sequence at \(row.refs): \(row.queries) queries (target at most \(row.refs / 100)), heap max - min \(spread) bytes "
                + "(target under 1 MB): \(queriesMet && spread < 1_000_000 ? "met" : "MISSED")")
        }
        let valueAt = rows.filter { $0.access == "value_at" }
        if let smallest = valueAt.min(by: { $0.refs < $1.refs }), let largest = valueAt.max(by: { $0.refs < $1.refs }),
           largest.refs > smallest.refs {
            let ratio = largest.cpuMicrosecondsPerReference / smallest.cpuMicrosecondsPerReference
            lines.append("value_at CPU per reference, \(largest.refs) against \(smallest.refs): \(ratio.formatted(2))x "
                + "(target within 1.5x): \(ratio <= 1.5 && ratio >= 1 / 1.5 ? "met" : "MISSED")")
        }
        return lines
    }
}
