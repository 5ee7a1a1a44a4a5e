import Foundation
import Tendril

// The N+1 experiment's models: meetings with a division, attendees, and a room that references
// an event.
final class BenchDivision: Document {
    override class var collectionName: String { "divisions" }
    @Field var name = ""
}

final class BenchAttendee: Document {
    override class var collectionName: String { "attendees" }
    @Field var name = ""
}

final class BenchEvent: Document {
    override class var collectionName: String { "events" }
    @Field var name = ""
}

final class BenchRoom: Document {
    override class var collectionName: String { "rooms" }
    @Field var name = ""
    @Reference<BenchEvent> var event
}

final class BenchMeeting: Document {
    override class var collectionName: String { "meetings" }
    @Field var title = ""
    @Reference<BenchDivision> var division
    @ReferenceList<BenchAttendee> var attendees
    @Reference<BenchRoom> var room
}

/// Queries sent to print each meeting's division name, attendee names and event name, with
/// lazy resolution (one query per reference), batched list resolution (one per list), and
/// query-level prefetch (one per reference field per batch of meetings), for P meetings.
///
/// Expectation (issue 5): prefetch sends 1 + 4 queries (meetings, then divisions, attendees,
/// rooms, events) whatever the number of meetings in a batch (batches of 1,000 here, so for 100
/// and 1,000 meetings alike); lazy and batched grow with the number of meetings.
/// `prefetch_default_batch` is the same prefetch without `.batchSize(1000)`: prefetch works per
/// batch of 100 (the default), so it sends 1 + 4 per 100 meetings (issue 13: 1 + 40 finds for
/// 1,000 meetings, where `prefetch` sends 1 + 4).
/// `lazy`, `batched` and the prefetches run under `.one`, as before `.peers` became the default.
/// `lazy_peers` is the plain lazy loop (the attendees streamed), with no batch size and no
/// fetch mode set: under the default `.peers` it sends 1 + 4 per batch of meetings (issue 15:
/// 5 for 100 meetings, at most 50 for 1,000). `lazy_one` is the same loop under `.one`.
struct QueriesBenchmark {
    static let columns = ["mode", "parents", "queries", "ms"]
    static let modes = ["lazy", "batched", "prefetch", "prefetch_default_batch", "lazy_peers", "lazy_one"]
    let parentCounts: [Int]

    struct Row {
        let mode: String, parents: Int, queries: Int, milliseconds: Double
        /// The most live heap seen while the mode ran, above the heap live when it began: printed
        /// in a table of its own, so the CSV keeps its columns.
        let peakHeapBytes: Int
    }

    func run(in database: MongoDatabase, counter: QueryCounter) async throws -> [Row] {
        var rows: [Row] = []
        for parents in parentCounts {
            Progress.show("seeding \(parents) meetings")
            try await seed(meetings: parents, in: database)
            if rows.isEmpty {
                // Warm-up: schemas, connections and threads exist before anything is timed.
                Progress.show("warming up")
                _ = try await printMeetings(mode: "batched", in: database, heap: HydrateBenchmark.HeapPeak())
            }
            for mode in Self.modes {
                Progress.show("\(mode), \(parents) meetings")
                counter.reset()
                let heap = HydrateBenchmark.HeapPeak()
                let start = ContinuousClock.now
                let lines = try await printMeetings(mode: mode, in: database, heap: heap)
                let elapsed = ContinuousClock.now - start
                heap.sample()
                guard lines == parents else { throw ValidationFailure("\(mode) printed \(lines) meetings, expected \(parents)") }
                // Sampling the heap walks every arena: its time is left out of the mode's.
                let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
                    - heap.overhead * 1e3
                rows.append(Row(mode: mode, parents: parents, queries: counter.findCount, milliseconds: milliseconds,
                                peakHeapBytes: heap.peak))
            }
        }
        Progress.done()
        return rows
    }

    /// Replaces the collections' contents with `meetings` meetings sharing 10 divisions, 50
    /// rooms (each with its own event) and 500 attendees, 10 per meeting.
    private func seed(meetings count: Int, in database: MongoDatabase) async throws {
        for name in ["divisions", "attendees", "events", "rooms", "meetings"] { try await database.collection(name).drop() }
        let divisions = (0..<10).map { index in BenchDivision().configured { $0.name = "division \(index)" } }
        let events = (0..<50).map { index in BenchEvent().configured { $0.name = "event \(index)" } }
        let attendees = (0..<500).map { index in BenchAttendee().configured { $0.name = "attendee \(index)" } }
        try await BenchDivision.insert(divisions, into: database)
        try await BenchEvent.insert(events, into: database)
        try await BenchAttendee.insert(attendees, into: database)
        let rooms = try events.enumerated().map { index, event in
            try BenchRoom().configured { $0.name = "room \(index)"; try $0.$event.set(event) }
        }
        try await BenchRoom.insert(rooms, into: database)
        let meetings = try (0..<count).map { index in
            try BenchMeeting().configured { meeting in
                meeting.title = "meeting \(index)"
                try meeting.$division.set(divisions[index % divisions.count])
                try meeting.$attendees.set((0..<10).map { attendees[(index * 7 + $0 * 31) % attendees.count] })
                try meeting.$room.set(rooms[index % rooms.count])
            }
        }
        for start in stride(from: 0, to: meetings.count, by: 1000) {
            try await BenchMeeting.insert(Array(meetings[start..<min(start + 1000, meetings.count)]), into: database)
        }
    }

    /// Builds each meeting's line (division, attendees, event) and returns how many were built.
    /// Samples `heap` after each meeting.
    private func printMeetings(mode: String, in database: MongoDatabase, heap: HydrateBenchmark.HeapPeak) async throws -> Int {
        // One batch of up to 1,000 meetings: prefetch sends one query per reference field per
        // batch, so at these sizes 1 + 4 in all. `prefetch_default_batch` keeps the default
        // batch size (100), to show what the batch size costs.
        var query = BenchMeeting.objects.using(database)
        switch mode {
        case "lazy_peers": break   // the plain loop: nothing set
        case "lazy_one": query = query.fetchMode(.one)
        case "prefetch_default_batch": query = query.fetchMode(.one)
        default: query = query.batchSize(1000).fetchMode(.one)
        }
        if mode.hasPrefix("prefetch") {
            query = query.prefetch(\.$division).prefetch(\.$attendees).prefetch(\.$room) { $0.prefetch(\.$event) }
        }
        var lines = 0
        for try await meeting in query {
            let division = try await meeting.$division.value?.name ?? "-"
            let attendees: [String]
            if mode.hasPrefix("lazy") {
                var names: [String] = []
                for try await attendee in meeting.$attendees { names.append(attendee.name) }
                attendees = names
            } else {
                attendees = try await meeting.$attendees.values.map(\.name)
            }
            let event = try await meeting.$room.value?.$event.value?.name ?? "-"
            let line = "\(meeting.title): \(division) [\(attendees.joined(separator: ", "))] \(event)"
            lines += line.isEmpty ? 0 : 1
            heap.sample()
        }
        return lines
    }
}

extension Document {
    /// The document after `configure` ran on it, for compact seeding.
    func configured(_ configure: (Self) throws -> Void) rethrows -> Self {
        try configure(self)
        return self
    }
}
