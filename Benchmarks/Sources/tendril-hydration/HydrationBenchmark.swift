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
    let repetitions = 5

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
        let raw = measure {
            checksum &+= bytes.withUnsafeBufferPointer { data in
                bson_floor_walk(data.baseAddress, offsets, lengths, documents.count)
            }
        }
        let construct = measure {
            for _ in documents {
                let person = BenchPerson()
                checksum &+= person.isNew ? 1 : 0
            }
        }
        let hydrate = measure {
            for document in documents {
                let person = try? BenchPerson.decoding(document)
                checksum &+= person == nil ? 0 : 1
            }
        }
        let readTwo = measure {
            for document in documents {
                guard let person = try? BenchPerson.decoding(document) else { continue }
                checksum &+= UInt64(person.age) &+ UInt64(person.name.utf8.count)
            }
        }
        let readAll = measure {
            for document in documents {
                guard let person = try? BenchPerson.decoding(document) else { continue }
                checksum &+= UInt64(person.age) &+ UInt64(person.name.utf8.count) &+ UInt64(person.email?.utf8.count ?? 0)
                checksum &+= UInt64(person.score) &+ (person.active ? 1 : 0) &+ UInt64(person.joined.timeIntervalSince1970)
                checksum &+= UInt64(person.referrer?.bytes[11] ?? 0) &+ UInt64(person.tags.count)
                checksum &+= UInt64(person.city.utf8.count) &+ UInt64(person.visits)
            }
        }
        if checksum == 42 { print("") }   // keeps the work observable
        return [
            Row(mode: "raw libbson walk (floor)", nanosecondsPerDocument: raw.0, allocationsPerDocument: raw.1),
            Row(mode: "new empty instance", nanosecondsPerDocument: construct.0, allocationsPerDocument: construct.1),
            Row(mode: "hydrate", nanosecondsPerDocument: hydrate.0, allocationsPerDocument: hydrate.1),
            Row(mode: "hydrate + read 2 fields", nanosecondsPerDocument: readTwo.0, allocationsPerDocument: readTwo.1),
            Row(mode: "hydrate + read 10 fields", nanosecondsPerDocument: readAll.0, allocationsPerDocument: readAll.1),
        ]
    }

    /// Best nanoseconds per document over the repetitions, and allocations per document.
    private func measure(_ body: () -> Void) -> (Double, Double?) {
        body()   // warm-up: schema, caches
        var best = Duration.seconds(1_000_000)
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            body()
            best = min(best, ContinuousClock.now - start)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        return (seconds * 1e9 / Double(count), allocations(body))
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
