import Foundation
import BenchmarkModels
import HeapStats
import MongoFloor
import Tendril

/// Documents per CPU-second loading M documents of the 10-field model from the server, in each
/// way Tendril offers, against a plain libmongoc cursor walking each document with libbson (the
/// floor). CPU time is the client process's (`getrusage`: user + system), not wall time, so the
/// server's own work is left out. Peak heap is the most live heap seen while a mode runs (sampled
/// every 1,000 documents) above what was live before it. Each mode runs five times, in turns;
/// the least CPU time and the most heap are reported.
///
/// Expectation (issues 3 and 5): hydration plus reading two fields at most 3x the floor's CPU.
struct HydrateBenchmark {
    static let columns = ["mode", "docs", "cpu_seconds", "docs_per_cpu_second", "ratio_to_raw", "peak_heap_bytes"]
    static let modeNames = ["raw", "hydrate", "hydrate_read_two", "hydrate_read_all", "only_one_field", "scalar_one_field"]
    let count: Int
    /// The modes to run (nil: all).
    var selectedModes: Set<String>? = nil
    let batchSize = 1000
    /// How many times each mode runs; the least CPU time counts, the most heap.
    let rounds = 5

    struct Row {
        let mode: String
        let docs: Int
        let cpuSeconds: Double
        let peakHeapBytes: Int
    }

    func run(in database: MongoDatabase, uri: String) async throws -> [Row] {
        let collection = database.collection(BenchPerson.collectionName)
        let documents = try BenchPerson.makeDocuments(count: count)
        for start in stride(from: 0, to: documents.count, by: 1000) {
            Progress.show("seeding \(start)/\(count) documents")
            try await collection.insertMany(Array(documents[start..<min(start + 1000, documents.count)]))
        }
        let query = BenchPerson.objects.using(database).batchSize(batchSize)
        // Warm-up: one pass, so connections, schemas and metadata exist before measuring.
        Progress.show("warming up")
        for try await _ in query.limit(2000) {}

        var message = [CChar](repeating: 0, count: 512)
        guard let floorClient = mongo_floor_client_new(uri, &message, message.count) else {
            throw ValidationFailure("raw client failed: \(Self.text(message))")
        }
        defer { mongo_floor_client_destroy(floorClient) }
        let allModes: [(name: String, run: () async throws -> Row)] = [
            ("raw", {
                try measure("raw") { heap in
                    var checksum: UInt64 = 0
                    let read = mongo_floor_scan(floorClient, database.name, BenchPerson.collectionName, Int32(batchSize), &checksum,
                                                { context in context.map { Unmanaged<HeapPeak>.fromOpaque($0).takeUnretainedValue().sample() } },
                                                Unmanaged.passUnretained(heap).toOpaque(), &message, message.count)
                    guard read >= 0 else { throw ValidationFailure("raw scan failed: \(Self.text(message))") }
                    return checksum == 42 ? Int(read) + 1 : Int(read)
                }
            }),
            ("hydrate", { try await measure("hydrate", scanning: query) { person in person.isNew ? 0 : 1 } }),
            ("hydrate_read_two", { try await measure("hydrate_read_two", scanning: query) { person in person.age &+ person.name.utf8.count } }),
            ("hydrate_read_all", {
                try await measure("hydrate_read_all", scanning: query) { person in
                    person.name.utf8.count &+ (person.email?.utf8.count ?? 0) &+ person.age &+ Int(person.score)
                        &+ (person.active ? 1 : 0) &+ Int(person.joined.timeIntervalSince1970) &+ Int(person.referrer?.timestamp.timeIntervalSince1970 ?? 0)
                        &+ person.tags.count &+ person.city.utf8.count &+ Int(person.visits)
                }
            }),
            ("only_one_field", { try await measure("only_one_field", scanning: query.only(\.$name)) { person in try person.name.utf8.count } }),
            ("scalar_one_field", { try await measure("scalar_one_field", scanning: query.scalar(\.$name)) { name in name.utf8.count } }),
        ]
        assert(allModes.map(\.name) == Self.modeNames)
        let modes = allModes.filter { selectedModes?.contains($0.name) ?? true }
        // Each mode runs `rounds` times, taking turns, and keeps its least CPU time: a busy
        // spell of a shared machine then hits every mode alike instead of one mode's only run.
        var best: [String: Row] = [:]
        for round in 1...rounds {
            for mode in modes {
                Progress.show("round \(round)/\(rounds): \(mode.name)")
                let row = try await mode.run()
                let previous = best[mode.name]
                best[mode.name] = Row(mode: row.mode, docs: row.docs, cpuSeconds: min(row.cpuSeconds, previous?.cpuSeconds ?? .infinity),
                                      peakHeapBytes: max(row.peakHeapBytes, previous?.peakHeapBytes ?? 0))
            }
        }
        Progress.done()
        return modes.compactMap { best[$0.name] }
    }

    private static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The most live heap seen since `start`, above the heap live at `start`.
    final class HeapPeak {
        let baseline = tendril_live_heap_bytes()
        private(set) var peak = 0
        /// CPU seconds spent sampling (`mallinfo2` walks every arena), left out of the mode's figure.
        private(set) var overhead = 0.0
        func sample() {
            let start = cpuSeconds()
            peak = max(peak, tendril_heap_in_use_bytes() - baseline)
            overhead += cpuSeconds() - start
        }
    }

    private func measure(_ mode: String, _ body: (HeapPeak) throws -> Int) throws -> Row {
        let heap = HeapPeak()
        let start = cpuSeconds()
        let docs = try body(heap)
        let elapsed = cpuSeconds() - start - heap.overhead
        heap.sample()
        return Row(mode: mode, docs: docs, cpuSeconds: elapsed, peakHeapBytes: heap.peak)
    }

    /// Iterates `sequence`, touching each element (`touch` returns a checksum so nothing is
    /// skipped), sampling the heap every 1,000 elements.
    private func measure<S: AsyncSequence>(_ mode: String, scanning sequence: S, _ touch: (S.Element) throws -> Int) async throws -> Row {
        let heap = HeapPeak()
        let start = cpuSeconds()
        var read = 0, checksum = 0
        for try await element in sequence {
            checksum &+= try touch(element)
            read += 1
            if read % 1000 == 0 { heap.sample() }
        }
        let elapsed = cpuSeconds() - start - heap.overhead
        heap.sample()
        return Row(mode: mode, docs: checksum == 42 ? read + 1 : read, cpuSeconds: elapsed, peakHeapBytes: heap.peak)
    }
}

/// CPU seconds (user + system) the process has used so far, across all its threads.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
