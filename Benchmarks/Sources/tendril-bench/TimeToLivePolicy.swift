import Foundation
import Synchronization
import Tendril

/// The time-to-live policy of the Cache policies article ("Writing a policy"), with its clock replaceable
/// so that the lab can run it: there, time is the number of accesses replayed so far
/// (``LabClock``), and the lab sweeps the time to live as it sweeps a capacity (a document kept
/// for T accesses; at most T documents are stored within any T accesses).
///
/// ```swift
/// CachePolicy(TimeToLivePolicy(seconds: 60))                              // wall-clock, as in the docs
/// CachePolicy(TimeToLivePolicy(seconds: 500) { Double(LabClock.accesses) }) // the lab's clock
/// ```
/// > Note: As in the docs, an expired document is dropped only when it is looked up again, so
/// documents never asked for again stay: `resident_docs` shows how many.
struct TimeToLivePolicy: ReferenceCachePolicy {
    let seconds: Double
    let now: @Sendable () -> Double

    init(seconds: Double, now: @escaping @Sendable () -> Double = { Date().timeIntervalSinceReferenceDate }) {
        self.seconds = seconds
        self.now = now
    }

    var description: String { "ttl(\(seconds)s)" }
    func makeStorage() -> any ReferenceCacheStorage { TimeToLiveStorage(seconds: seconds, now: now) }

    /// The docs' storage as written there, but for the clock.
    final class TimeToLiveStorage: ReferenceCacheStorage {
        let seconds: Double
        let now: @Sendable () -> Double
        private var entries: [ReferenceKey: (document: Document, cost: Int, storedAt: Double)] = [:]

        init(seconds: Double, now: @escaping @Sendable () -> Double) {
            self.seconds = seconds
            self.now = now
        }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let entry = entries[key] else { return .miss }
            guard now() - entry.storedAt < seconds else {
                entries[key] = nil
                return .expired   // counted as an eviction
            }
            return .hit(entry.document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            entries[key] = (document, cost, now())
            return []   // nothing dropped to make room
        }

        func remove(_ key: ReferenceKey) -> Bool { entries.removeValue(forKey: key) != nil }
        func removeAll() { entries.removeAll() }
        var residentCount: Int { entries.count }
        var residentBytes: Int { entries.values.reduce(0) { $0 + $1.cost } }
    }
}

/// The lab's clock for ``TimeToLivePolicy``: the accesses replayed so far in the current run
/// (runs are one at a time).
enum LabClock {
    private static let counter = Atomic<Int>(0)

    static var accesses: Int { counter.load(ordering: .relaxed) }

    static func tick() { counter.wrappingAdd(1, ordering: .relaxed) }

    static func reset() { counter.store(0, ordering: .relaxed) }
}
