import Logging
import ServiceLifecycle
import Testing
@testable import TendrilDriver

/// `MongoClient` as a `Service`: after a graceful shutdown it refuses new operations, kills its
/// open cursors (one killCursors each) and closes its pool.
@Suite("Service lifecycle")
struct ServiceLifecycleTests {
    /// A client of its own (it is shut down), a recorder of its commands, and a filled collection.
    static func withClient(_ body: (MongoClient, MongoCollection, CommandRecorder) async throws -> Void) async throws {
        let client = try MongoClient(try TestServer.uri(), shutdownGracePeriod: .seconds(5))
        let recorder = CommandRecorder()
        client.addCommandObserver(recorder)
        let name = "tendril_test_lifecycle_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let people = client.database(name).collection("people")
        try await people.insertMany((0..<6).map { ["n": .int32(Int32($0))] })
        do {
            try await body(client, people, recorder)
        } catch {
            try? await MongoClient(try TestServer.uri()).database(name).drop()
            throw error
        }
        try await MongoClient(try TestServer.uri()).database(name).drop()
    }

    @Test("shutdown kills each open cursor once, and new operations throw clientShutDown")
    func shutdownWithOpenCursors() async throws {
        try await Self.withClient { client, people, recorder in
            let first = try await people.find([:], options: FindOptions(batchSize: 2))
            let second = try await people.find([:], options: FindOptions(batchSize: 2))
            var firstIterator = first.makeAsyncIterator()
            var secondIterator = second.makeAsyncIterator()
            _ = try await firstIterator.next()
            _ = try await secondIterator.next()
            recorder.reset()

            await client.shutdown()
            #expect(client.isShutDown)
            #expect(recorder.count(of: "killCursors") == 2)
            #expect(first.isClosed && second.isClosed)
            let error = await #expect(throws: MongoError.self) { try await people.countDocuments() }
            #expect(error?.kind == .clientShutDown)
            #expect(recorder.count(of: "aggregate") == 0, "a refused operation sends nothing")

            await client.shutdown()
            #expect(recorder.count(of: "killCursors") == 2, "a second shutdown does nothing more")
        }
    }

    @Test("run() in a ServiceGroup returns after the group's graceful shutdown, which shuts the client down")
    func runsInAServiceGroup() async throws {
        try await Self.withClient { client, people, _ in
            let group = ServiceGroup(services: [client], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await people.countDocuments() == 6)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(client.isShutDown)
            let error = await #expect(throws: MongoError.self) { try await people.findOne() }
            #expect(error?.kind == .clientShutDown)
        }
    }
}
