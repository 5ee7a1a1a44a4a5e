import BSONFloor
import Foundation
import MallocInterposerSwift
import BenchmarkModels
import Tendril

/// Hydrates documents of a 10-field model from in-memory BSON and compares the cost with a raw
/// libbson walk over the same bytes (the floor).
///
/// Expectation (issue 3): hydration plus reading two fields costs at most 3x the raw walk.
/// Timings are the best of `repetitions` runs (CPU-bound, in memory); allocations are counted
/// on a separate run by ordo-one's malloc-interposer, which must be preloaded
/// (`bash Benchmarks/run.sh hydration` does that).
struct HydrationBenchmark {
    let count: Int
    let repetitions = 7

    struct Row {
        let mode: String
        let nanosecondsPerDocument: Double
        let allocationsPerDocument: Double?
    }

    func run() throws -> [Row] {
        let documents = try BenchPerson.makeDocuments(count: count)
        // The floor walks the same bytes laid end to end.
        var bytes: [UInt8] = []
        var offsets: [UInt32] = []
        var lengths: [UInt32] = []
        for document in documents {
            offsets.append(UInt32(bytes.count))
            lengths.append(UInt32(document.byteCount))
            bytes += document.bytes
        }
        var checksum: UInt64 = 0
        var lastMade: BenchPerson?
        let modes: [(String, () -> Void)] = [
            ("raw libbson walk (floor)", {
                checksum &+= bytes.withUnsafeBufferPointer { data in
                    bson_floor_walk(data.baseAddress, offsets, lengths, documents.count)
                }
            }),
            ("new empty instance", {
                for _ in documents {
                    let person = BenchPerson()
                    checksum &+= person.isNew ? 1 : 0
                    lastMade = person   // escapes, so it is not promoted to the stack
                }
            }),
            ("hydrate", {
                for document in documents {
                    let person = try? BenchPerson.decoding(document)
                    checksum &+= person == nil ? 0 : 1
                }
            }),
            ("hydrate + read 2 fields", {
                for document in documents {
                    guard let person = try? BenchPerson.decoding(document) else { continue }
                    checksum &+= UInt64(person.age) &+ UInt64(person.name.utf8.count)
                }
            }),
            ("hydrate + read 10 fields", {
                for document in documents {
                    guard let person = try? BenchPerson.decoding(document) else { continue }
                    checksum &+= Self.readAll(person)
                }
            }),
        ]
        let best = bestTimes(modes.map(\.1))
        let rows = modes.enumerated().map { index, mode in
            Row(mode: mode.0, nanosecondsPerDocument: best[index], allocationsPerDocument: allocations(mode.1))
        }
        if checksum == 42 || lastMade == nil { print("") }   // keeps the work observable
        return rows
    }

    /// Repeats only the hydrate + read 2 (or all 10) fields loop, so a profiler's samples are all that path.
    func profileReading(allFields: Bool, rounds: Int) throws {
        let documents = try BenchPerson.makeDocuments(count: count)
        var checksum: UInt64 = 0
        for _ in 0..<rounds {
            for document in documents {
                guard let person = try? BenchPerson.decoding(document) else { continue }
                checksum &+= allFields ? Self.readAll(person) : UInt64(person.age) &+ UInt64(person.name.utf8.count)
            }
        }
        if checksum == 42 { print("") }
    }

    /// A checksum over all 10 fields, so no read is skipped.
    @inline(__always)
    static func readAll(_ person: BenchPerson) -> UInt64 {
        var checksum = UInt64(person.age) &+ UInt64(person.name.utf8.count) &+ UInt64(person.email?.utf8.count ?? 0)
        checksum &+= UInt64(person.score) &+ (person.active ? 1 : 0) &+ UInt64(person.joined.timeIntervalSince1970)
        checksum &+= UInt64(person.referrer?.timestamp.timeIntervalSince1970 ?? 0) &+ UInt64(person.tags.count)
        checksum &+= UInt64(person.city.utf8.count) &+ UInt64(person.visits)
        return checksum
    }

    /// Each mode's best nanoseconds per document over the repetitions. The modes take turns
    /// within each repetition, so a slow spell of this shared machine hits them alike instead
    /// of one mode's whole series.
    private func bestTimes(_ bodies: [() -> Void]) -> [Double] {
        for body in bodies { body() }   // warm-up: schemas, caches
        var best = Array(repeating: Duration.seconds(1_000_000), count: bodies.count)
        for _ in 0..<repetitions {
            for (index, body) in bodies.enumerated() {
                let start = ContinuousClock.now
                body()
                best[index] = min(best[index], ContinuousClock.now - start)
            }
        }
        return best.map { duration in
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return seconds * 1e9 / Double(count)
        }
    }

    /// True when the interposer is preloaded: without LD_PRELOAD nothing is intercepted.
    static let countsAllocations: Bool = {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        MallocInterposerSwift.unhook()
        probe.deallocate()
        defer { MallocInterposerSwift.reset() }
        return MallocInterposerSwift.getStatistics().mallocCount > 0
    }()

    private func allocations(_ body: () -> Void) -> Double? {
        guard Self.countsAllocations else { return nil }
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        body()
        MallocInterposerSwift.unhook()
        let statistics = MallocInterposerSwift.getStatistics()
        MallocInterposerSwift.reset()
        return Double(statistics.mallocCount) / Double(count)
    }
}
