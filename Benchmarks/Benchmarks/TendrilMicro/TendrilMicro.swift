import Benchmark
import Foundation
import Tendril

// Micro-benchmarks of Tendril's hot paths, in memory (no server), with package-benchmark's
// malloc metrics: BSON encoding and decoding, hydration, and reference-cache hits, misses and
// evictions per policy. Run with `bash Benchmarks/run.sh micro` (or `swift package benchmark`
// inside Benchmarks/). Expectation: a cache hit allocates nothing under every policy.

/// The 10-field model of the hydration benchmarks.
final class MicroPerson: Document {
    @Field var name: String = ""
    @Field var email: String?
    @Field var age: Int = 0
    @Field var score: Double = 0
    @Field var active: Bool = false
    @Field var joined = Date(timeIntervalSince1970: 0)
    @Field var referrer: ObjectID?
    @Field var tags: [String] = []
    @Field var city: String = ""
    @Field var visits: Int32 = 0
}

/// One stored person, as a fetched document looks.
func makePersonBSON(_ index: Int) -> BSONDocument {
    [
        "_id": .objectID(ObjectID()), "name": .string("Person \(index)"), "email": .string("person\(index)@example.com"),
        "age": .int64(Int64(18 + index % 60)), "score": .double(Double(index % 1000) / 10), "active": .bool(index.isMultiple(of: 2)),
        "joined": .datetime(BSONDateTime(millisecondsSinceEpoch: 1_600_000_000_000)), "referrer": .objectID(ObjectID()),
        "tags": ["t1", "member", "beta"], "city": "Lisbon", "visits": .int32(Int32(index % 500)),
    ]
}

let mallocMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: mallocMetrics, scalingFactor: .kilo, maxDuration: .seconds(2))

    Benchmark("BSON encode: 10-field document") { benchmark in
        for index in benchmark.scaledIterations { blackHole(makePersonBSON(index)) }
    }

    let stored = makePersonBSON(1)
    Benchmark("BSON decode: every value of a 10-field document") { benchmark in
        for _ in benchmark.scaledIterations {
            for (key, value) in stored { blackHole(key); blackHole(value) }
        }
    }

    Benchmark("BSON validate: 10-field document from bytes") { benchmark in
        let bytes = stored.bytes
        for _ in benchmark.scaledIterations { blackHole(try? BSONDocument(bytes: bytes)) }
    }

    Benchmark("Hydrate: 10-field document") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? MicroPerson.decoding(stored)) }
    }

    Benchmark("Hydrate and read 2 fields") { benchmark in
        for _ in benchmark.scaledIterations {
            guard let person = try? MicroPerson.decoding(stored) else { continue }
            blackHole(person.name)
            blackHole(person.age)
        }
    }

    // The cache's storages, as the cache drives them (it holds its lock around these calls).
    let policies: [(String, CachePolicy)] = [
        ("strong", .strong), ("none", .none), ("lru(16)", .lru(capacity: 16)), ("lru(64 KB)", .lru(maxBytes: 65_536)), ("weak", .weak),
    ]
    // 512 documents of cost 300 overflow every bounded policy (16 documents, 64 KB), so storing
    // them in turn evicts; `strong` and `weak` grow to 512 and then store over existing keys.
    let documents = (0..<512).compactMap { try? MicroPerson.decoding(makePersonBSON($0)) }
    let keys = documents.compactMap { document in document.id.map { ReferenceKey(MicroPerson.self, id: $0) } }
    for (name, policy) in policies {
        Benchmark("Cache hit: \(name)") { benchmark in
            let storage = policy.base.makeStorage()
            _ = storage.store(documents[0], for: keys[0], cost: 300)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(storage.lookUp(keys[0])) }
        }
        Benchmark("Cache miss: \(name)") { benchmark in
            let storage = policy.base.makeStorage()
            let absent = ReferenceKey(MicroPerson.self, id: ObjectID())
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(storage.lookUp(absent)) }
        }
        Benchmark("Cache store, 512 keys in turn: \(name)") { benchmark in
            let storage = policy.base.makeStorage()
            benchmark.startMeasurement()
            for index in benchmark.scaledIterations {
                blackHole(storage.store(documents[index % documents.count], for: keys[index % keys.count], cost: 300))
            }
        }
    }
}
