import Foundation
import Synchronization
import Testing
@testable import Tendril
@testable import TendrilDriver

/// A document handed out by a reference cache, read from several threads while one task
/// reloads and saves it (issue 14, item 6; the References and Concurrency articles).
/// Run under `bash scripts/sanitize.sh thread --filter SharedDocument` and `address`: a reader
/// that touched freed or torn memory fails there, and a value that is neither an old nor a new
/// one fails here.
@Suite("Documents shared across tasks")
struct SharedDocumentTests {
    /// Rounds of the writer: each changes the fields, saves, then reloads.
    static let writes = 60
    /// Each reader reads at least this many times, and at most `maximumReads`, stopping once the
    /// writer is done: bounded, whatever the speed of the machine or the sanitizer.
    static let minimumReads = 200
    static let maximumReads = 20_000

    @Test("8 readers and 1 reloader on one cache-shared document: every value read is an old or a new one")
    func readersSeeOldOrNewValues() async throws {
        try await TestServer.withDatabase { database, _ in
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped("parent")
            // The shared document: the parent's cache hands it out, as it would to several tasks.
            let shared = try await parent.$friends.value(at: 0)
            let again = try await parent.$friends.value(at: 0)
            #expect(shared === again, "the same instance, from the cache")
            #expect(shared.isShared)
            let listed = Set(friendIDs[1...])   // the ids its list may hold

            let validNames = Set(["friend 0"] + (1...Self.writes).map { "name \($0)" })
            let validAges = Set([20] + Array(1...Self.writes))
            let progress = ReaderProgress()
            let sharedAcrossThreads = Unchecked(shared)   // the misuse under test, on purpose

            let readers = (0..<8).map { reader in
                ReaderThread {
                    let shared = sharedAcrossThreads.value
                    var round = 0
                    while round < Self.minimumReads || (!progress.writerDone.load(ordering: .acquiring) && round < Self.maximumReads) {
                        round += 1
                        // Eight busy threads on a small machine would starve the writer, the
                        // server and the rest of the suite: pause briefly now and then (reads
                        // still overlap the writer's every step).
                        if round % 16 == 0 { usleep(100) }
                        var wrong: [String] = []
                        let name = shared.name   // a plain read (peekField)
                        if !validNames.contains(name) { wrong.append("name \(name)") }
                        let age = shared.age
                        if !validAges.contains(age) { wrong.append("age \(age)") }
                        if shared.bio != String(repeating: "b", count: 200) { wrong.append("bio") }
                        if shared.tags != ["a", "b", "c", "d", "e"] { wrong.append("tags \(shared.tags)") }
                        let ids = shared.$friends.ids   // a peek of the stored list
                        if ids.count > 2 || !Set(ids).isSubset(of: listed) { wrong.append("ids \(ids)") }
                        let count = shared.$friends.count   // the stored list's index
                        if count > 2 { wrong.append("count \(count)") }
                        if count > 0, reader % 2 == 0, round % 8 == 0 {
                            // A position read (through the index), resolved through the shared document's cache.
                            do {
                                let friend = try shared.$friends.blockingValue(at: 0)
                                if friend.id.map(listed.contains) != true { wrong.append("friend \(String(describing: friend.id))") }
                            } catch {
                                wrong.append("blockingValue(at: 0) threw \(error)")
                            }
                        }
                        if !wrong.isEmpty { progress.wrongValues.withLock { $0.append(contentsOf: wrong) } }
                    }
                    progress.reads.add(round, ordering: .relaxed)
                }
            }

            for version in 1...Self.writes {
                shared.name = "name \(version)"
                shared.age = version
                shared.friends = version % 2 == 0 ? [friendIDs[1]] : [friendIDs[1], friendIDs[2]]
                try await shared.save()
                try await shared.reload(from: database)
            }
            progress.writerDone.store(true, ordering: .releasing)
            for reader in readers { await reader.finished() }

            #expect(progress.wrongValues.withLock { $0 }.isEmpty, "values no version ever held: \(progress.wrongValues.withLock { $0.prefix(5) })")
            #expect(progress.reads.load(ordering: .relaxed) >= 8 * Self.minimumReads)
            #expect(shared.name == "name \(Self.writes)" && shared.age == Self.writes)
        }
    }
}


extension SharedDocumentTests {
    @Test("8 threads read a shared document's embedded document while a task changes and saves it: one instance, old or new values")
    func embeddedDocumentShared() async throws {
        try await TestServer.withDatabase { database, _ in
            let company = Company()
            company.name = "Acme"
            company.headquarters.city = "city 0"
            try await company.insert(into: database)
            let (parentID, _) = try await PalFixture.seed(1, in: database)
            let parent = try await Pal.objects.using(database).get(parentID).unwrapped("parent")
            // Any class resolves through a document's cache: the company is shared from here on.
            let shared = try await parent.referenceCache.document(Company.self, id: company.id.unwrapped("id"))
            #expect(shared.isShared)

            let validCities = Set((0...Self.writes).map { "city \($0)" })
            let progress = ReaderProgress()
            let sharedAcrossThreads = Unchecked(shared)
            let readers = (0..<8).map { _ in
                ReaderThread {
                    let shared = sharedAcrossThreads.value
                    var round = 0
                    var seen: Set<ObjectIdentifier> = []
                    while round < Self.minimumReads || (!progress.writerDone.load(ordering: .acquiring) && round < Self.maximumReads) {
                        round += 1
                        // Eight busy threads on a small machine would starve the writer, the
                        // server and the rest of the suite: pause briefly now and then (reads
                        // still overlap the writer's every step).
                        if round % 16 == 0 { usleep(100) }
                        let headquarters = shared.headquarters   // the first read caches it: a write
                        seen.insert(ObjectIdentifier(headquarters))
                        let city = headquarters.city
                        if !validCities.contains(city) { progress.wrongValues.withLock { $0.append("city \(city)") } }
                        if shared.name != "Acme" { progress.wrongValues.withLock { $0.append("name \(shared.name)") } }
                    }
                    progress.identities.withLock { $0.formUnion(seen) }
                    progress.reads.add(round, ordering: .relaxed)
                }
            }
            for version in 1...Self.writes {
                shared.headquarters.city = "city \(version)"
                try await shared.save()
            }
            progress.writerDone.store(true, ordering: .releasing)
            for reader in readers { await reader.finished() }

            #expect(progress.wrongValues.withLock { $0 }.isEmpty, "values no version ever held: \(progress.wrongValues.withLock { $0.prefix(5) })")
            #expect(progress.identities.withLock { $0 } == [ObjectIdentifier(shared.headquarters)], "every task read the same embedded document")
            #expect(shared.headquarters.isShared)
            let stored = try await Company.objects.using(database).get(shared.id.unwrapped("id"))
            #expect(stored?.headquarters.city == "city \(Self.writes)")
        }
    }
}

/// What the readers report, and when the writer is done.
final class ReaderProgress: Sendable {
    let writerDone = Atomic(false)
    let reads = Atomic(0)
    // `Locked` (an NSLock), not `Mutex`: ThreadSanitizer does not see the futex `Mutex` uses on
    // Linux, and would report the accesses it serialises as races.
    let wrongValues = Locked<[String]>([])
    /// The embedded documents the readers saw, by identity.
    let identities = Locked<Set<ObjectIdentifier>>([])
}

/// A document handed to other threads as a cache would: Documents are not `Sendable`.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A thread of its own for a reader: 8 readers on the cooperative pool (as many threads as
/// cores) would never run beside the writer.
final class ReaderThread: Sendable {
    private let done: DispatchSemaphore

    /// Starts a thread running `body`.
    init(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        self.done = done
        Thread {
            body()
            done.signal()
        }.start()
    }

    /// Waits for the thread's body to return, off the cooperative pool.
    func finished() async {
        let done = self.done
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                done.wait()
                continuation.resume()
            }
        }
    }
}
