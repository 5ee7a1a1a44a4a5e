import Foundation
import Tendril

/// A policy the lab sweeps, by name.
struct LabPolicy: Sendable {
    let name: String
    /// The policy for a budget of `capacity` documents or `maxBytes` bytes (the other one nil).
    let make: @Sendable (_ capacity: Int?, _ maxBytes: Int?) -> CachePolicy

    /// Every built-in policy; `strong`, `none` and `weak` ignore the budget (flat lines).
    static let builtIns: [LabPolicy] = [
        LabPolicy(name: "lru") { CachePolicy(LRUCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "sieve") { CachePolicy(SieveCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "s3fifo") { CachePolicy(S3FIFOCachePolicy(capacity: $0, maxBytes: $1)) },
        LabPolicy(name: "strong") { _, _ in .strong },
        LabPolicy(name: "none") { _, _ in .none },
        LabPolicy(name: "weak") { _, _ in .weak },
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
}
