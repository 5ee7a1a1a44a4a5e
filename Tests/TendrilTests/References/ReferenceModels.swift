import Foundation
@testable import Tendril
@testable import TendrilDriver

/// The growth scenario's person: a few plain fields and references to other people.
final class Pal: Document {
    // Explicit, so that tests changing `CachePolicy.default` do not reach this class.
    override class var referenceCachePolicy: CachePolicy { .strong }
    @Field var name = ""
    @Field var bio = ""
    @Field var age = 0
    @Field var tags: [String] = []
    @Reference<Pal> var bestFriend
    @ReferenceList<Pal> var friends
    @ReferenceDictionary<Pal> var roles
}

/// A class without its own policy: it follows `CachePolicy.default`.
final class Follower: Document {
    @Field var name = ""
    @Reference<Follower> var leader
}

/// A class whose documents keep at most 4 resolved documents.
final class Thrifty: Document {
    override class var referenceCachePolicy: CachePolicy { .lru(capacity: 4) }
    @Field var name = ""
    @ReferenceList<Pal> var friends
}

/// Counts its live instances, for the cycle tests (used by no other test).
final class Rival: Document {
    static let live = Locked(0)
    @Field var name = ""
    @Reference<Rival> var nemesis
    @ReferenceList<Rival> var rivals

    required init() {
        super.init()
        Self.live.withLock { $0 += 1 }
    }
    deinit { Self.live.withLock { $0 -= 1 } }
}

/// Keeps each document for a fixed time after it was stored: the custom policy of the docs.
struct TimeToLivePolicy: ReferenceCachePolicy {
    let seconds: Double
    /// The clock, replaceable so tests move time instead of sleeping.
    let now: @Sendable () -> Double
    var description: String { "ttl(\(seconds)s)" }
    func makeStorage() -> any ReferenceCacheStorage { Storage(seconds: seconds, now: now) }

    final class Storage: ReferenceCacheStorage {
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
                return .expired
            }
            return .hit(entry.document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            entries[key] = (document, cost, now())
            return []
        }

        func remove(_ key: ReferenceKey) -> Bool { entries.removeValue(forKey: key) != nil }
        func removeAll() { entries.removeAll() }
        var residentCount: Int { entries.count }
        var residentBytes: Int { entries.values.reduce(0) { $0 + $1.cost } }
    }
}

enum PalFixture {
    /// Inserts a parent with `count` friends (each with a 200-character bio) and returns the
    /// parent's id and the friends' ids in order.
    static func seed(_ count: Int, in database: MongoDatabase) async throws -> (parent: ObjectID, friends: [ObjectID]) {
        let friends = (0..<count).map { index in
            let friend = Pal()
            friend.name = "friend \(index)"
            friend.bio = String(repeating: "b", count: 200)
            friend.age = 20 + index % 50
            friend.tags = ["a", "b", "c", "d", "e"]
            return friend
        }
        try await Pal.insert(friends, into: database)
        let parent = Pal()
        parent.name = "parent"
        parent.friends = friends.compactMap(\.id)
        try await parent.insert(into: database)
        return (try parent.id.unwrapped(), parent.friends)
    }
}

extension Optional {
    /// The value, or a test failure naming what was missing.
    func unwrapped(_ what: String = "value") throws -> Wrapped {
        guard let self else { throw TestFailure(message: "missing \(what)") }
        return self
    }
}

struct TestFailure: Error {
    let message: String
}

// The N+1 scenario: meetings with a division, attendees and a room that references an event.
final class Division: Document {
    @Field var name = ""
}

final class Attendee: Document {
    @Field var name = ""
    @Field var email = ""
}

final class Event: Document {
    @Field var name = ""
}

final class Room: Document {
    @Field var name = ""
    @Reference<Event> var event
}

final class Meeting: Document {
    @Field var title = ""
    @Reference<Division> var division
    @ReferenceList<Attendee> var attendees
    @Reference<Room> var room
}

enum MeetingFixture {
    /// `count` meetings sharing 3 divisions, 4 rooms (each with its own event) and a pool of
    /// 30 attendees, 10 per meeting.
    static func seed(_ count: Int, in database: MongoDatabase) async throws {
        let divisions = (0..<3).map { index in Division().with { $0.name = "division \(index)" } }
        let events = (0..<4).map { index in Event().with { $0.name = "event \(index)" } }
        let attendees = (0..<30).map { index in Attendee().with { $0.name = "attendee \(index)"; $0.email = "a\(index)@example.com" } }
        try await Division.insert(divisions, into: database)
        try await Event.insert(events, into: database)
        try await Attendee.insert(attendees, into: database)
        let rooms = try events.enumerated().map { index, event in
            try Room().with { $0.name = "room \(index)"; try $0.$event.set(event) }
        }
        try await Room.insert(rooms, into: database)
        let meetings = try (0..<count).map { index in
            try Meeting().with { meeting in
                meeting.title = "meeting \(index)"
                try meeting.$division.set(divisions[index % 3])
                try meeting.$attendees.set((0..<10).map { attendees[(index + $0 * 3) % 30] })
                try meeting.$room.set(rooms[index % 4])
            }
        }
        try await Meeting.insert(meetings, into: database)
    }
}

extension Document {
    /// The document after `configure` ran on it, for compact fixtures.
    func with(_ configure: (Self) throws -> Void) rethrows -> Self {
        try configure(self)
        return self
    }
}

// Delete rules, one referenced class per rule so tests running at once do not interfere.
final class Writer: Document {
    @Field var name = ""
}

final class Essay: Document {
    @Field var title = ""
    @Reference<Writer>(onDelete: .nullify) var editor
    @ReferenceList<Writer>(onDelete: .pull) var coauthors
    @ReferenceDictionary<Writer>(onDelete: .nullify) var roles
    @Reference<Writer> var mentioned        // no rule: left dangling
}

final class Publisher: Document {
    @Field var name = ""
}

final class Book: Document {
    @Field var title = ""
    @Reference<Publisher>(onDelete: .cascade) var publisher
}

final class Review: Document {
    @Field var text = ""
    @Reference<Book>(onDelete: .cascade) var book
}

final class Signer: Document {
    @Field var name = ""
}

final class Contract: Document {
    @Field var title = ""
    @Reference<Signer>(onDelete: .deny) var signer
}

/// Used only by the cancelled-delete test: hooks are per class, and tests run in parallel.
final class Sponsor: Document {
    @Field var name = ""
}

final class Grant: Document {
    @Field var title = ""
    @Reference<Sponsor>(onDelete: .deny) var sponsor
}
