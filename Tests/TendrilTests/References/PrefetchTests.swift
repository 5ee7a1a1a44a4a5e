import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("References: query-level prefetch")
struct PrefetchTests {
    /// Prints every meeting's division, attendees and event; returns the lines.
    private func describe(_ meetings: [Meeting]) throws -> [String] {
        try meetings.map { meeting in
            let division = try meeting.$division.blockingValue()?.name ?? "-"
            let attendees = try meeting.$attendees.blockingValues().map(\.name).joined(separator: ",")
            let event = try meeting.$room.blockingValue()?.$event.blockingValue()?.name ?? "-"
            return "\(meeting.title): \(division) [\(attendees)] \(event)"
        }
    }

    @Test("100 meetings × (division + 10 attendees + room → event): 1 + 4 queries")
    func prefetchIssuesOneQueryPerField() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(100, in: database)
            recorder.reset()
            let meetings = try await Meeting.objects.using(database)
                .prefetch(\.$division)
                .prefetch(\.$attendees)
                .prefetch(\.$room) { $0.prefetch(\.$event) }
                .all()
            let lines = try describe(meetings)
            #expect(lines.count == 100)
            #expect(lines[0] == "meeting 0: division 0 [attendee 0,attendee 3,attendee 6,attendee 9,attendee 12,attendee 15,attendee 18,attendee 21,attendee 24,attendee 27] event 0")
            #expect(recorder.count(of: "find") == 1 + 4)
            #expect(recorder.count(of: "getMore") == 0)
            let collections = recorder.commands(named: "find").compactMap { $0["find"]?.stringValue }
            #expect(collections == ["Meeting", "Division", "Attendee", "Room", "Event"])

            // The same printing without prefetch, under the default .peers: the same 5 queries.
            recorder.reset()
            let lazy = try describe(try await Meeting.objects.using(database).all())
            #expect(lazy == lines)
            #expect(recorder.count(of: "find") == 1 + 4)
            // One at a time: one query per distinct target per parent.
            recorder.reset()
            let one = try describe(try await Meeting.objects.using(database).fetchMode(.one).all())
            #expect(one == lines)
            #expect(recorder.count(of: "find") == 1 + 100 * 3 + 100, "division, batched attendees, room, event for each meeting")
        }
    }

    @Test("prefetch works per batch: 250 meetings in batches of 100 send 3 queries per field")
    func prefetchPerBatch() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(250, in: database)
            recorder.reset()
            var count = 0
            for try await meeting in Meeting.objects.using(database).batchSize(100).prefetch(\.$division) {
                _ = try await meeting.$division.value
                count += 1
            }
            #expect(count == 250)
            #expect(recorder.count(of: "find") == 1 + 3)
            #expect(recorder.count(of: "getMore") == 2)
        }
    }

    @Test("a projected prefetch fetches only the named fields; those documents are partial")
    func projectedPrefetch() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(10, in: database)
            recorder.reset()
            let meeting = try await Meeting.objects.using(database).prefetch(\.$attendees, only: [\.$name]).first().unwrapped()
            let finds = recorder.commands(named: "find")
            #expect(finds.count == 2)
            #expect(finds.last?["projection"] == .document(["name": 1]))
            recorder.reset()
            let attendees = try await meeting.$attendees.partialValues
            #expect(try attendees.map { try $0.name }.count == 10)
            #expect(throws: DocumentError.self) { try attendees[0].email }
            #expect(recorder.count(of: "find") == 0)
            // Asked for whole documents, the cache fetches them whole instead of passing off partial ones.
            let whole = try await meeting.$attendees.values
            #expect(whole[0].email == "a0@example.com")
            #expect(recorder.count(of: "find") == 1)
        }
    }

    /// The blocking partial forms, from synchronous code (they are `noasync`): a meeting's room
    /// name and attendee names.
    private func blockingPartialNames(_ meeting: Meeting) throws -> (room: String?, attendees: [String]) {
        (try meeting.$room.blockingPartialValue().map { try $0.name },
         try meeting.$attendees.blockingPartialValues().map { try $0.name })
    }

    @Test("the blocking partial forms serve the prefetched partial documents as their async twins do")
    func blockingPartialForms() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(10, in: database)
            let meetings = try await Meeting.objects.using(database)
                .prefetch(\.$attendees, only: [\.$name]).prefetch(\.$room, only: [\.$name])
                .all()
            recorder.reset()
            for meeting in meetings {
                let blocking = try blockingPartialNames(meeting)
                let room = try await meeting.$room.partialValue.map { try $0.name }
                let attendees = try await meeting.$attendees.partialValues.map { try $0.name }
                #expect(blocking.room == room)
                #expect(blocking.attendees == attendees)
                #expect(attendees.count == 10)
            }
            #expect(try blockingPartialNames(meetings[5]).room == "room 1")
            #expect(recorder.count(of: "find") == 0)
        }
    }

    @Test("a prefetch key path that names no reference field makes the query throw")
    func prefetchOfANonField() async throws {
        try await TestServer.withDatabase { database, _ in
            _ = await #expect { try await Meeting.objects.using(database).prefetch(\.other.$attendees).first() } throws: { error in
                (error as? DocumentError)?.kind == .notAField
            }
        }
    }

    @Test("a projected prefetch also loads the fields its nested prefetches need")
    func projectedNestedPrefetch() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(8, in: database)
            recorder.reset()
            let meetings = try await Meeting.objects.using(database)
                .prefetch(\.$room, only: [\.$name]) { $0.prefetch(\.$event) }
                .all()
            #expect(recorder.count(of: "find") == 3)
            #expect(recorder.commands(named: "find")[1]["projection"] == .document(["name": 1, "event": 1]))
            recorder.reset()
            let room = try await meetings[5].$room.partialValue.unwrapped()
            #expect(try room.name == "room 1")
            #expect(try await room.document.$event.value?.name == "event 1")
            #expect(recorder.count(of: "find") == 0)
        }
    }

    @Test("an only: key path that names no field of the target makes the query throw")
    func projectedPrefetchOfANonField() async throws {
        try await TestServer.withDatabase { database, _ in
            _ = await #expect { try await Meeting.objects.using(database).prefetch(\.$room, only: [\.floor]).first() } throws: { error in
                (error as? DocumentError)?.kind == .notAField
            }
        }
    }

    @Test("a document that fails to load mid-batch: the documents before it are delivered, then the error")
    func prefetchBatchWithABadDocument() async throws {
        try await TestServer.withDatabase { database, _ in
            try await MeetingFixture.seed(3, in: database)
            try await database.collection("Meeting").insertOne(["title": 42])
            var titles: [String] = []
            var iterator = Meeting.objects.using(database).prefetch(\.$division).makeAsyncIterator()
            await #expect(throws: DocumentError.self) {
                while let meeting = try await iterator.next() { titles.append(meeting.title) }
            }
            #expect(titles == ["meeting 0", "meeting 1", "meeting 2"])
        }
    }

    @Test("dangling ids found by a prefetch are remembered by each parent")
    func prefetchRemembersDangling() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(6, in: database)
            let gone = try await Division.objects.using(database).first().unwrapped()
            try await database.collection("Division").deleteOne(["_id": .objectID(gone.id.unwrapped())])
            let meetings = try await Meeting.objects.using(database).prefetch(\.$division).all()
            recorder.reset()
            for meeting in meetings where meeting.division == gone.id {
                #expect(throws: DocumentError.self) { try meeting.$division.blockingValue() }
            }
            #expect(recorder.count(of: "find") == 0)
        }
    }
}

extension Room {
    /// A computed property reading no stored field.
    var floor: Int { 0 }
}

extension Meeting {
    /// A meeting reached through another property: its handles name no field of `Meeting`.
    var other: Meeting { Meeting() }
}
