import Foundation
import Testing
@testable import TendrilDriver

/// Server faults from a private nx-27017 the test kills and restarts by PID (issue 6, items 1,
/// 5 and 6; docs/reliability.md).
// A hang fails the suite through its time limit instead of stalling the run. Three minutes, not
// one: under ThreadSanitizer on a loaded 2-core host, a kill, a restart of the Python server and
// the recovery loop's server selections (2 s each while the server starts) took 74 s once (the
// same test: 3 s unloaded, 19 s plain on that host).
@Suite("Faults: server killed and restarted", .serialized, .timeLimit(.minutes(3)))
struct FaultTests {
    @Test("the server dies during getMore: documents received are delivered, then a typed network error; the client works again once a server is back")
    func serverDiesDuringGetMore() async throws {
        let server = try FaultServer()
        let client = try MongoClient(server.uri(adding: "serverSelectionTimeoutMS=2000&socketTimeoutMS=5000"))
        let collection = client.database("faults").collection("numbers")
        try await collection.insertMany((0..<3000).map { ["n": .int32(Int32($0))] })
        let cursor = try await collection.find([:], options: FindOptions(batchSize: 100))
        var received = 0
        var failure: (any Error)?
        do {
            for try await _ in cursor {
                received += 1
                if received == 150 { try server.kill() }
            }
        } catch {
            failure = error
        }
        // The first two batches (200) were already here when the server died: all delivered.
        #expect(received >= 200 && received < 3000, "received \(received)")
        let mongoError = try #require(failure as? MongoError, "expected a MongoError, got \(String(describing: failure))")
        #expect(mongoError.kind == .network || mongoError.kind == .serverSelection, "\(mongoError)")
        // Back on the same port, with its data: the same pooled client recovers.
        try server.restart()
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = (try? await collection.countDocuments()) == 3000
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered, "the client did not recover after the restart")
    }

    @Test("writes committed before a restart are all there after it, through the same client")
    func committedWritesSurviveRestart() async throws {
        let server = try FaultServer()
        let client = try MongoClient(server.uri(adding: "serverSelectionTimeoutMS=2000"))
        let collection = client.database("faults").collection("ledger")
        for index in 0..<100 { try await collection.insertOne(["_id": .int32(Int32(index))]) }
        try server.kill()
        let whileDown = await #expect(throws: MongoError.self) { try await collection.insertOne(["_id": 100]) }
        #expect(whileDown?.kind == .serverSelection || whileDown?.kind == .network, "\(String(describing: whileDown))")
        try server.restart()
        var count = -1
        for _ in 0..<50 where count != 100 {
            count = (try? await collection.countDocuments()) ?? -1
            if count != 100 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(count == 100)
    }

    @Test("no server at start: a typed error within serverSelectionTimeoutMS, not a hang")
    func serverDownAtStart() async throws {
        let server = try FaultServer()
        let uri = server.uri(adding: "serverSelectionTimeoutMS=300&connectTimeoutMS=300")
        try server.kill()
        let client = try MongoClient(uri)
        let error = await #expect(throws: MongoError.self) { try await client.database("faults").collection("x").insertOne(["a": 1]) }
        #expect(error?.kind == .serverSelection, "\(String(describing: error))")
    }
}
