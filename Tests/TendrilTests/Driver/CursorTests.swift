import Testing
@testable import TendrilDriver

@Suite("Cursors against the test server")
struct CursorTests {
    @Test("a cursor over 20,000 documents with batch size 100 streams them all in getMores")
    func streamsInBatches() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = database.collection("numbers")
            for chunk in stride(from: 0, to: 20_000, by: 5_000) {
                try await numbers.insertMany((chunk..<chunk + 5_000).map { ["n": .int32(Int32($0))] })
            }
            recorder.reset()
            var seen = 0
            var expected: Int32 = 0
            for try await document in try await numbers.find([:], options: FindOptions(sort: ["n": 1], batchSize: 100)) {
                #expect(document["n"] == .int32(expected))
                expected += 1
                seen += 1
            }
            #expect(seen == 20_000)
            #expect(recorder.count(of: "find") == 1)
            // 200 batches of 100: 199 getMores, plus one empty final getMore when the server
            // only learns it is exhausted on the next request (MongoDB may do either).
            let getMores = recorder.commands(named: "getMore")
            #expect((199...200).contains(getMores.count))
            #expect(getMores.allSatisfy { $0["batchSize"]?.intValue == 100 })
            let batches = recorder.succeededEvents.compactMap { $0.reply["cursor"]?.documentValue }
                .map { ($0["firstBatch"] ?? $0["nextBatch"])?.arrayValue?.count ?? 0 }
            #expect(batches.allSatisfy { $0 <= 100 })
            #expect(batches.reduce(0, +) == 20_000)
            #expect(recorder.count(of: "killCursors") == 0, "an exhausted cursor needs no killCursors")
        }
    }

    @Test("abandoning a cursor early sends exactly one killCursors; closing twice sends no more")
    func abandonedCursorIsKilled() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = database.collection("numbers")
            try await numbers.insertMany((0..<100).map { ["_id": .int32(Int32($0))] })
            recorder.reset()
            // Outside any task (as in a blocking program), the drop kills the cursor at once.
            try await BlockingExecutor.shared.run {
                let cursor = try numbers.find([:], options: FindOptions(batchSize: 10))
                for _ in 0..<15 { _ = try cursor.next() }
            }   // dropped here
            #expect(recorder.count(of: "killCursors") == 1)

            let closed = try await numbers.find([:], options: FindOptions(batchSize: 10))
            // The blocking next() is what this checks after an async close: run it on Tendril's threads.
            _ = try await BlockingExecutor.shared.run { try closed.next() }
            await closed.close()
            await closed.close()
            #expect(try await BlockingExecutor.shared.run { try closed.next() } == nil)
            #expect(closed.isClosed)
            #expect(recorder.count(of: "killCursors") == 2)
            let killed = recorder.commands(named: "killCursors")
            #expect(killed.allSatisfy { $0["killCursors"] == "numbers" })
        }
    }

    @Test("a cursor dropped inside a task is killed on an executor thread, not the cooperative pool")
    func cursorDroppedInTask() async throws {
        try await TestServer.withDatabase { database, _ in
            let observer = SendingThreadRecorder()
            database.client.addCommandObserver(observer)
            let numbers = database.collection("numbers")
            try await numbers.insertMany((0..<300).map { ["_id": .int32(Int32($0))] })
            var iterator = try await numbers.find([:], options: FindOptions(batchSize: 5)).makeAsyncIterator()
            for _ in 0..<7 { _ = try await iterator.next() }
            iterator = try await numbers.find(["_id": -1]).makeAsyncIterator()   // drops the first cursor
            #expect(try await iterator.next() == nil)
            // The release runs in the background: wait for its command, with a bound.
            for _ in 0..<500 where observer.sentFromExecutor("killCursors").isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(observer.sentFromExecutor("killCursors") == [true])
        }
    }

    @Test("blocked pops never starve the cursor that would free their connection")
    func blockedPopsDoNotStarveCursors() async throws {
        // A private server: on the one the whole suite shares, the 70 counts queue behind every
        // other test's commands, and under ThreadSanitizer the last one once waited past the
        // 60 s wait-queue timeout (0.2 s alone). What is tested is the client's threads. Even
        // here, one fresh-clone ThreadSanitizer run failed after 97 s, a count past 60 s (two
        // other full runs that day passed): read as slowness under the sanitizer, hence 180 s.
        let server = try FaultServer()
        let client = try MongoClient(server.uri(adding: "maxPoolSize=1&waitQueueTimeoutMS=180000"))
        let database = client.database("tendril_test_starvation")
        let collection = database.collection("c")
        try await collection.insertMany((0..<10).map { ["n": .int32(Int32($0))] })
        // The cursor holds the only connection until it is exhausted.
        var iterator = try await collection.find([:], options: FindOptions(batchSize: 2)).makeAsyncIterator()
        _ = try await iterator.next()
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            // More blocked callers than the 64 threads the executor once had.
            for _ in 0..<70 {
                group.addTask { try await collection.countDocuments() }
            }
            var rest = 1
            while try await iterator.next() != nil { rest += 1 }
            #expect(rest == 10)
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 10, count: 70))
        try await database.drop()
    }

    @Test("a cursor that read every document sends no killCursors and keeps returning nil")
    func exhaustedCursor() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = database.collection("numbers")
            try await numbers.insertMany((0..<25).map { ["_id": .int32(Int32($0))] })
            recorder.reset()
            let cursor = try await numbers.find([:], options: FindOptions(batchSize: 10))
            #expect(try await cursor.toArray().count == 25)
            // The blocking next() keeps answering nil: run it on Tendril's threads, off the async context.
            #expect(try await BlockingExecutor.shared.run { try cursor.next() } == nil)
            #expect(try await BlockingExecutor.shared.run { try cursor.next() } == nil)
            #expect(recorder.count(of: "killCursors") == 0)
        }
    }

    @Test("invalid find options are refused at find(), with nothing sent")
    func invalidOptions() async throws {
        try await TestServer.withDatabase { database, recorder in
            recorder.reset()
            #expect(throws: MongoError.self) { try database.collection("c").find([:], options: FindOptions(limit: -1)) }
            #expect(throws: MongoError.self) { try database.collection("c").find([:], options: FindOptions(batchSize: Int(Int32.max) + 1)) }
            #expect(recorder.startedEvents.isEmpty)
        }
    }
}
