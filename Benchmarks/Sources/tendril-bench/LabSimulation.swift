import Foundation
import Tendril

/// The lab's documents: what a simulated miss stores (a fresh one each time, so that `.weak`
/// keeps only what somebody holds: nobody, in the simulation).
final class LabDocument: Document {
    override class var collectionName: String { "lab" }
    @Field var name = ""
}

/// Replays a workload through one policy's storage directly, as a parent's cache would use it
/// (a lookup; on a miss, the store of a fresh document of the workload's size), with no server:
/// millions of accesses per second, for sweeps.
struct LabSimulation {
    /// The BSON size of every simulated document: the growth benchmark's friend (a name, a
    /// 200-character bio, an age and 5 tags) is 358 bytes.
    static let documentBytes = 358

    let workload: LabWorkload
    /// One key per id, made once per workload.
    private let keys: [ReferenceKey]

    init(workload: LabWorkload) {
        self.workload = workload
        keys = (0..<workload.idBound).map { _ in ReferenceKey(LabDocument.self, id: ObjectID()) }
    }

    struct Outcome {
        let misses: Int
        let residentDocs: Int
        let residentBSONBytes: Int
        let seconds: Double
    }

    /// Replays the whole trace through a fresh storage of `policy`.
    func run(_ policy: CachePolicy) -> Outcome {
        let storage = policy.base.makeStorage()
        var misses = 0
        LabClock.reset()
        let start = ContinuousClock.now
        for id in workload.accesses {
            LabClock.tick()
            let key = keys[Int(id)]
            if case .hit = storage.lookUp(key) { continue }
            misses += 1
            _ = storage.store(LabDocument(), for: key, cost: Self.documentBytes)
        }
        let elapsed = ContinuousClock.now - start
        return Outcome(misses: misses, residentDocs: storage.residentCount, residentBSONBytes: storage.residentBytes,
                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
