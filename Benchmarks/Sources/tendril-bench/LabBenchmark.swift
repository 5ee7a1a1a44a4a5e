import Foundation
import HeapStats
import Tendril

/// A policy the lab sweeps, by name.
struct LabPolicy: Sendable {
    let name: String
    /// The policy for a budget of `capacity` documents or `maxBytes` bytes (the other one nil).
    let make: @Sendable (_ capacity: Int?, _ maxBytes: Int?) -> CachePolicy

    /// Every built-in policy and the docs' time-to-live example; `strong`, `none` and `weak`
    /// ignore the budget (flat lines).
    static let builtIns: [LabPolicy] = [
        LabPolicy(name: "lru") { CachePolicy(LRUCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "sieve") { CachePolicy(SieveCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "s3fifo") { CachePolicy(S3FIFOCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "strong") { _, _ in .strong },
        LabPolicy(name: "none") { _, _ in .none },
        LabPolicy(name: "weak") { _, _ in .weak },
        // the Cache policies article's example, time counted in accesses: a document lives for as many
        // accesses as the capacity (or as many documents' bytes as the budget allows).
        LabPolicy(name: "ttl") { capacity, maxBytes in
            let accesses = capacity ?? (maxBytes ?? 0) / LabSimulation.documentBytes
            return CachePolicy(TimeToLivePolicy(seconds: Double(accesses)) { Double(LabClock.accesses) })
        },
    ]

    /// Policies of your own: one line each (docs/cache-policy-lab.md shows how).
    static let registered: [LabPolicy] = [
        LabPolicy(name: "fifo") { CachePolicy(FIFOCachePolicy(capacity: $0, maxBytes: $1)) },
    ]

    static var all: [LabPolicy] { builtIns + registered }
}

/// Miss ratio against cache size: every workload replayed through every policy at every budget.
struct LabBenchmark {
    static let columns = [
        "mode", "workload", "policy", "capacity_fraction", "capacity", "capacity_bytes", "accesses", "misses", "miss_ratio",
        "queries", "resident_docs", "resident_bson_bytes", "retained_bytes", "seconds",
    ]

    /// Whether budgets count documents or BSON bytes (`capacity` × the documents' size).
    enum Budget: String {
        case count, bytes
    }

    let workloads: [LabWorkload]
    let policies: [LabPolicy]
    let fractions: [Double]
    let budget: Budget

    struct Row {
        let mode: String, workload: String, policy: String
        let fraction: Double, capacity: Int, capacityBytes: Int?
        let accesses: Int, misses: Int
        /// Measured in live mode only (empty in sim).
        let queries: Int?, retainedBytes: Int?
        let residentDocs: Int, residentBSONBytes: Int
        let seconds: Double

        var missRatio: Double { Double(misses) / Double(max(accesses, 1)) }

        var cells: [String] {
            [mode, workload, policy, "\(fraction)", "\(capacity)", capacityBytes.map { "\($0)" } ?? "", "\(accesses)", "\(misses)",
             missRatio.formatted(4), queries.map { "\($0)" } ?? "", "\(residentDocs)", "\(residentBSONBytes)",
             retainedBytes.map { "\($0)" } ?? "", seconds.formatted(3)]
        }
    }

    /// The budget at `fraction` of a workload's distinct ids: at least one document.
    func capacity(_ fraction: Double, of workload: LabWorkload) -> Int {
        max(1, Int((fraction * Double(workload.distinctIDs)).rounded()))
    }

    /// The `sim` sweep: no server, each policy's storage driven directly.
    func simulate() -> [Row] {
        var rows: [Row] = []
        let total = workloads.count * fractions.count * policies.count
        for workload in workloads {
            let simulation = LabSimulation(workload: workload)
            for fraction in fractions {
                let capacity = self.capacity(fraction, of: workload)
                let capacityBytes = budget == .bytes ? capacity * LabSimulation.documentBytes : nil
                for policy in policies {
                    Progress.show("[\(rows.count + 1)/\(total)] sim \(workload.name), \(policy.name), capacity \(capacity)")
                    let made = policy.make(budget == .count ? capacity : nil, capacityBytes)
                    let outcome = simulation.run(made)
                    rows.append(Row(mode: "sim", workload: workload.name, policy: policy.name, fraction: fraction,
                                    capacity: capacity, capacityBytes: capacityBytes, accesses: workload.accesses.count,
                                    misses: outcome.misses, queries: nil, retainedBytes: nil, residentDocs: outcome.residentDocs,
                                    residentBSONBytes: outcome.residentBSONBytes, seconds: outcome.seconds))
                }
            }
        }
        Progress.done()
        return rows
    }

    /// The `live` sweep: each trace through a real parent against the server, its friends the
    /// trace's ids (the growth benchmark's people, about 358 bytes each), resolved one at a time
    /// (one query per miss). Budgets by count only: live documents' sizes vary by a few bytes.
    func live(in database: MongoDatabase, recorder: QueryCounter) async throws -> [Row] {
        var rows: [Row] = []
        let total = workloads.count * fractions.count * policies.count
        for workload in workloads {
            Progress.show("seeding \(workload.idBound) documents for \(workload.name)")
            let parentID = try await GrowthBenchmark.seed(friends: workload.idBound, in: database)
            for fraction in fractions {
                let capacity = self.capacity(fraction, of: workload)
                for policy in policies {
                    Progress.show("[\(rows.count + 1)/\(total)] live \(workload.name), \(policy.name), capacity \(capacity)")
                    let parent = try await GrowthPerson.objects.using(database).cachePolicy(policy.make(capacity, nil))
                        .get(parentID).unwrapped("the lab's parent")
                    // Lets a cursor closed on another thread go before the heap is read.
                    try await Task.sleep(for: .milliseconds(20))
                    recorder.reset()
                    let baseline = tendril_live_heap_bytes()
                    let (_, elapsed) = try milliseconds { try Self.replay(workload, through: parent) }
                    let retained = tendril_live_heap_bytes() - baseline
                    let statistics = parent.referenceCache.statistics
                    rows.append(Row(mode: "live", workload: workload.name, policy: policy.name, fraction: fraction,
                                    capacity: capacity, capacityBytes: nil, accesses: workload.accesses.count,
                                    misses: statistics.misses, queries: recorder.findCount, retainedBytes: retained,
                                    residentDocs: statistics.residentCount, residentBSONBytes: statistics.residentBytes,
                                    seconds: elapsed / 1000))
                }
            }
        }
        Progress.done()
        return rows
    }

    /// Resolves the trace's friends in order, dropping each at once (only the parent keeps any).
    private static func replay(_ workload: LabWorkload, through parent: GrowthPerson) throws {
        LabClock.reset()
        for id in workload.accesses {
            LabClock.tick()
            _ = try parent.$friends.blockingValue(at: Int(id))
        }
    }

    /// Checks every live row against the sim row of the same trace, policy and capacity: live
    /// misses must equal sim misses and the queries sent. Returns the disagreements.
    static func disagreements(live: [Row], sim: [Row]) -> [String] {
        live.compactMap { row in
            let twin = sim.first {
                $0.workload == row.workload && $0.policy == row.policy && $0.capacity == row.capacity && $0.accesses == row.accesses
            }
            guard let twin else { return "\(row.workload) \(row.policy) \(row.capacity): no sim row" }
            guard row.misses == twin.misses, row.queries == row.misses else {
                return "\(row.workload) \(row.policy) \(row.capacity): live misses \(row.misses), sim misses \(twin.misses), "
                    + "queries \(row.queries.map(String.init) ?? "-")"
            }
            return nil
        }
    }
}
