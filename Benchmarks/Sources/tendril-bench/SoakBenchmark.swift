import Foundation
import HeapStats
import Synchronization
import Tendril

/// The soak's document: a name, a counter and references to others.
final class SoakPerson: Document {
    override class var collectionName: String { "soak" }
    @Field var name = ""
    @Field var visits = 0
    @Reference<SoakPerson> var best
    @ReferenceList<SoakPerson> var friends

    /// Live instances, counted by `init` and `deinit`: what must return to its start.
    static let live = Atomic<Int>(0)
    required init() {
        super.init()
        Self.live.add(1, ordering: .relaxed)
    }
    deinit { Self.live.subtract(1, ordering: .relaxed) }
}

/// Many cycles of the work an application does all day, checking that nothing accumulates:
/// each cycle finds a person under one of the cache policies (in turn), resolves its best
/// friend one by one and its friends batched, reads their names, saves a change, inserts a
/// throwaway document and deletes it. Live documents and the live heap (glibc `mallinfo2`,
/// tcache off, `malloc_trim(0)` before each reading) are read after a warm-up and at the end.
///
/// Expectation (issue 6, item 15): both return to their starting level.
struct SoakBenchmark {
    static let columns = ["cycles", "seconds", "live_documents_start", "live_documents_end",
                          "heap_start_bytes", "heap_end_bytes", "heap_growth_bytes", "queries"]
    static let policies: [CachePolicy] = [.strong, .none, .lru(capacity: 4), .lru(maxBytes: 2048), .weak]
    let cycles: Int
    let people = 50
    let friendsEach = 5
    let warmUpCycles = 200

    struct Outcome {
        let cycles: Int, seconds: Double
        let liveStart: Int, liveEnd: Int
        let heapStart: Int, heapEnd: Int
        let queries: Int
        var heapGrowth: Int { heapEnd - heapStart }
        var cells: [String] {
            ["\(cycles)", seconds.formatted(1), "\(liveStart)", "\(liveEnd)", "\(heapStart)", "\(heapEnd)", "\(heapGrowth)", "\(queries)"]
        }
    }

    func run(in database: MongoDatabase, counter: QueryCounter) async throws -> Outcome {
        try await seed(database)
        for cycle in 0..<warmUpCycles { try await self.cycle(cycle, in: database) }
        let liveStart = SoakPerson.live.load(ordering: .relaxed)
        let heapStart = tendril_live_heap_bytes()
        let queriesStart = counter.findCount + counter.otherCount
        let started = ContinuousClock.now
        for cycle in 0..<cycles {
            if cycle % 500 == 0 { Progress.show("cycle \(cycle)/\(cycles)") }
            try await self.cycle(cycle, in: database)
        }
        let elapsed = ContinuousClock.now - started
        Progress.done()
        return Outcome(cycles: cycles, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                       liveStart: liveStart, liveEnd: SoakPerson.live.load(ordering: .relaxed),
                       heapStart: heapStart, heapEnd: tendril_live_heap_bytes(), queries: counter.findCount + counter.otherCount - queriesStart)
    }

    private func seed(_ database: MongoDatabase) async throws {
        var everyone: [SoakPerson] = []
        for index in 0..<people {
            let person = SoakPerson()
            person.name = "person \(index)"
            everyone.append(person)
        }
        try await SoakPerson.insert(everyone, into: database)
        for (index, person) in everyone.enumerated() {
            try person.$best.set(everyone[(index + 1) % people])
            try person.$friends.set((1...friendsEach).map { everyone[(index + $0 * 7) % people] })
        }
        try await SoakPerson.save(everyone, in: database)
    }

    /// One cycle; everything it creates is dropped when it returns.
    private func cycle(_ cycle: Int, in database: MongoDatabase) async throws {
        let policy = Self.policies[cycle % Self.policies.count]
        let query = SoakPerson.objects.using(database).cachePolicy(policy)
        guard let person = try await query.filter(\.$name == "person \(cycle % people)").first() else {
            throw SoakError("person \(cycle % people) is missing")
        }
        var names = try await person.$best.value?.name.utf8.count ?? 0
        for friend in try await person.$friends.values { names &+= friend.name.utf8.count }
        guard names > 0 else { throw SoakError("no names read") }
        person.visits += 1
        try await person.save()
        let throwaway = SoakPerson()
        throwaway.name = "throwaway \(cycle)"
        try await throwaway.insert(into: database)
        try await throwaway.delete()
    }
}

struct SoakError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
