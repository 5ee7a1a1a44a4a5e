import Foundation
import Testing
@testable import TendrilDriver

@Suite("Async calls run off the cooperative pool")
struct BlockingExecutorTests {
    @Test("the async API runs libmongoc calls on Tendril's own threads")
    func runsOnOwnThreads() async throws {
        #expect(!BlockingExecutor.isCurrentThreadExecutorThread)
        #expect(try await BlockingExecutor.shared.run { BlockingExecutor.isCurrentThreadExecutorThread })
    }

    @Test("every command of the async API is sent from an executor thread")
    func asyncCommandsLeaveTheCooperativePool() async throws {
        try await TestServer.withDatabase { database, _ in
            let observer = SendingThreadRecorder()
            database.client.addCommandObserver(observer)
            let collection = database.collection("c")
            try await collection.insertMany((0..<30).map { ["n": .int32(Int32($0))] })
            _ = try await collection.findOne(["n": 1])
            var streamed = 0
            for try await _ in try await collection.find([:], options: FindOptions(batchSize: 7)) { streamed += 1 }
            _ = try await collection.countDocuments()
            #expect(streamed == 30)
            #expect(observer.commandNames.isSuperset(of: ["insert", "find", "getMore", "aggregate"]))
            #expect(observer.allSentFromExecutor)
        }
    }

    @Test("errors and results cross back to the awaiting task")
    func resultsAndErrors() async throws {
        #expect(try await BlockingExecutor.shared.run { 42 } == 42)
        await #expect(throws: BSONError.self) {
            try await BlockingExecutor.shared.run { try ObjectID("nope") }
        }
    }

    @Test("far more blocked tasks than cores, waiting on a pool of one, all finish")
    func manyBlockedTasksDoNotDeadlock() async throws {
        // A private server, as in CursorTests.blockedPopsDoNotStarveCursors: on the shared one the
        // counts queue behind the rest of the suite (89 s under ThreadSanitizer once, against a
        // 60 s wait-queue timeout).
        let server = try FaultServer()
        let client = try MongoClient(server.uri(adding: "maxPoolSize=1&waitQueueTimeoutMS=60000"))
        let collection = client.database("tendril_test_executor").collection("c")
        try await collection.insertOne(["n": 1])
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<32 {
                group.addTask { try await collection.countDocuments() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 1, count: 32))
        try await client.database("tendril_test_executor").drop()
    }
}
