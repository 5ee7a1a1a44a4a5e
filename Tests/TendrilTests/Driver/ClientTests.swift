import Foundation
import Testing
@testable import TendrilDriver

@Suite("Client: concurrency, pool and errors")
struct ClientTests {
    @Test("8 tasks x 200 operations share one client")
    func concurrentTasks() async throws {
        try await TestServer.withDatabase { database, recorder in
            let collection = database.collection("concurrent")
            recorder.reset()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for operation in 0..<200 {
                            let id = BSONValue.int32(Int32(task * 1_000 + operation))
                            if operation.isMultiple(of: 2) {
                                try await collection.insertOne(["_id": id, "task": .int32(Int32(task))])
                            } else {
                                _ = try await collection.findOne(["_id": id])
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await collection.countDocuments() == 800)
            for task in 0..<8 {
                #expect(try await collection.countDocuments(["task": .int32(Int32(task))]) == 100)
            }
            #expect(recorder.count(of: "insert") == 800)
            #expect(recorder.count(of: "find") == 800)
        }
    }

    @Test("the blocking API is safe from many threads at once")
    func concurrentThreads() async throws {
        try await TestServer.withDatabase { database, _ async throws in
            let collection = database.collection("threads")
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for operation in 0..<50 {
                    do {
                        try collection.insertOne(["_id": .int32(Int32(thread * 100 + operation))])
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try await collection.countDocuments() == 400)
        }
    }

    @Test("an unreachable server fails with a server-selection error, not a hang")
    func unreachableServer() async throws {
        // Port 1 on loopback: nothing listens there.
        let client = try MongoClient("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
        let started = ContinuousClock.now
        let error = try await #require(throws: MongoError.self) {
            _ = try await client.database("x").collection("y").findOne()
        }
        #expect(error.kind == .serverSelection, "\(error)")
        #expect(error.domain != 0 && !error.message.isEmpty)
        // A guard against hanging, far above the 300 ms configured, not a timing claim.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("an exhausted pool throws after waitQueueTimeoutMS instead of blocking forever")
    func poolExhaustion() throws {
        let client = try MongoClient(try TestServer.uri(adding: "maxPoolSize=1&waitQueueTimeoutMS=200"))
        let collection = client.database("tendril_test_pool").collection("c")
        try collection.insertMany([["n": 1], ["n": 2]])
        // A find refused before any I/O gives its connection back: the pool of one still serves.
        for _ in 0..<3 {
            #expect(throws: MongoError.self) { try collection.find([:], options: FindOptions(extra: ["serverId": "not a number"])) }
        }
        #expect(try collection.countDocuments() == 2)
        let cursor = try collection.find([:], options: FindOptions(batchSize: 1))
        _ = try cursor.next()   // the cursor now holds the only connection
        let error = try #require(throws: MongoError.self) { try collection.countDocuments() }
        #expect(error.kind == .connectionPoolTimeout)
        cursor.close()
        #expect(try collection.countDocuments() == 2, "the connection is back once the cursor closes")
        try client.database("tendril_test_pool").drop()
    }

    @Test("invalid URIs and application names are typed errors, not aborts")
    func invalidConfiguration() {
        for uri in ["", "http://localhost", "mongodb://", "mongodb://host:99999999", "mongodb://a/?replicaSet="] {
            #expect(throws: MongoError.self, "\(uri)") { _ = try MongoClient(uri) }
        }
        let longName = String(repeating: "x", count: 200)
        let error = try? #require(throws: MongoError.self) { _ = try MongoClient("mongodb://127.0.0.1:1/", appName: longName) }
        #expect(error?.kind == .invalidArgument)
        #expect(throws: MongoError.self) { _ = try MongoClient("mongodb://127.0.0.1:1/?appname=\(longName)") }
    }

    @Test("a waitQueueTimeoutMS of 0 or less, which libmongoc reads as forever, becomes the default")
    func nonPositiveWaitQueueTimeout() throws {
        for value in ["0", "-1"] {
            let client = try MongoClient("mongodb://127.0.0.1:1/?maxPoolSize=1&waitQueueTimeoutMS=\(value)")
            #expect(client.pool.waitQueueTimeoutMS == ConnectionPool.defaultWaitQueueTimeoutMS)
        }
        #expect(try MongoClient("mongodb://127.0.0.1:1/").pool.waitQueueTimeoutMS == ConnectionPool.defaultWaitQueueTimeoutMS)
        #expect(try MongoClient("mongodb://127.0.0.1:1/?waitQueueTimeoutMS=200").pool.waitQueueTimeoutMS == 200)
    }

    @Test("an application name given both in the URI and as an argument must agree")
    func applicationNameGivenTwice() throws {
        let error = try #require(throws: MongoError.self) {
            _ = try MongoClient("mongodb://127.0.0.1:1/?appname=billing", appName: "reports")
        }
        #expect(error.kind == .invalidArgument && error.message.contains("twice"))
        _ = try MongoClient("mongodb://127.0.0.1:1/?appname=billing", appName: "billing")
        #expect(throws: MongoError.self) { _ = try MongoClient("mongodb://127.0.0.1:1/", appName: "a\0b") }
        #expect(throws: MongoError.self) { _ = try MongoClient("mongodb://127.0.0.1:1/\0ignored") }
    }

    @Test("invalid database and collection names are refused")
    func invalidNames() throws {
        let client = try MongoClient("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100")
        #expect(throws: MongoError.self) { _ = try client.database("").collection("c").findOne() }
        #expect(throws: MongoError.self) { _ = try client.database("d").collection("a\0b").countDocuments() }
        #expect(throws: MongoError.self) { try client.database("d").collection("c").dropIndex("a_1\0b") }
    }

    @Test("observers that want no documents get none unless another does; a removed observer hears nothing more")
    func observerDocumentsAndRemoval() async throws {
        let client = try MongoClient(try TestServer.uri())
        let database = client.database("tendril_test_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        let collection = database.collection("observed")
        let namesOnly = NamesOnlyObserver()
        let recorder = CommandRecorder()

        client.addCommandObserver(namesOnly)
        try await collection.insertOne(["_id": .int32(1)])
        client.addCommandObserver(recorder)
        try await collection.insertOne(["_id": .int32(2)])
        client.removeCommandObserver(recorder)
        try await collection.insertOne(["_id": .int32(3)])
        client.removeCommandObserver(namesOnly)
        try await collection.insertOne(["_id": .int32(4)])
        try await database.drop()

        // Documents are copied only while an observer that wants them is registered.
        #expect(namesOnly.insertCommandWasEmpty == [true, false, true])
        #expect(recorder.commands(named: "insert").map { $0["documents"]?.arrayValue?.first?.documentValue?["_id"] } == [.int32(2)])
    }
}

/// Records, for each `insert` it hears, whether the event's command document was empty.
private final class NamesOnlyObserver: CommandObserver {
    private let inserts = Locked<[Bool]>([])
    var observesDocuments: Bool { false }

    func commandStarted(_ event: CommandStartedEvent) {
        guard event.commandName == "insert" else { return }
        inserts.withLock { $0.append(event.command.isEmpty) }
    }

    var insertCommandWasEmpty: [Bool] { inserts.withLock { $0 } }
}
