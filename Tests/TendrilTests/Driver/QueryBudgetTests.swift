import Testing
@testable import TendrilDriver

@Suite("Query budget: counting and refusing commands")
struct QueryBudgetTests {
    /// 25 numbers: read with batch size 10 they come in three batches, so a full read sends a
    /// `find` and two `getMore`s (the last batch is short, so the server closes the cursor).
    private func seedNumbers(_ database: MongoDatabase) async throws -> MongoCollection {
        let numbers = database.collection("numbers")
        try await numbers.insertMany((0..<25).map { ["n": .int32(Int32($0))] })
        return numbers
    }

    private func readAll(_ numbers: MongoCollection) async throws -> Int {
        var seen = 0
        for try await _ in try await numbers.find([:], options: FindOptions(sort: ["n": 1], batchSize: 10)) { seen += 1 }
        return seen
    }

    @Test("a find and each getMore count, as the command observer sees them")
    func countsFindAndGetMore() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = try await seedNumbers(database)
            recorder.reset()
            let (seen, commandsSent) = try await QueryBudget.count { try await readAll(numbers) }
            #expect(seen == 25)
            #expect(recorder.commandNames == ["find", "getMore", "getMore"])
            #expect(commandsSent == 3)
        }
    }

    @Test("writes count one command each; the blocking API counts on the calling thread")
    func countsWrites() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = database.collection("numbers")
            recorder.reset()
            let (_, commandsSent) = try await QueryBudget.count {
                try await numbers.insertOne(["n": 1])
                try await numbers.insertMany([["n": 2], ["n": 3]])
                try await numbers.updateOne(["n": 1], ["$set": ["n": 10]])
                try await numbers.updateMany([:], ["$inc": ["n": 1]])
                try await numbers.deleteOne(["n": 4])
                try countBlocking(numbers)
            }
            #expect(recorder.commandNames == ["insert", "insert", "update", "update", "delete", "aggregate"])
            #expect(commandsSent == 6)
        }
    }

    /// A blocking call made by a task's own thread, not through Tendril's threads.
    private func countBlocking(_ numbers: MongoCollection) throws {
        #expect(try numbers.countDocuments() == 2)
    }

    @Test("the command beyond the limit throws, names itself and its collection, and is not sent")
    func refusesGetMoreBeyondLimit() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = try await seedNumbers(database)
            recorder.reset()
            var seen = 0
            let error = await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(2) {
                    for try await _ in try await numbers.find([:], options: FindOptions(sort: ["n": 1], batchSize: 10)) { seen += 1 }
                }
            }
            #expect(error == QueryBudgetExceeded(limit: 2, commandName: "getMore", collectionName: "numbers"))
            #expect(error?.description == "query budget of 2 commands exceeded: getMore on numbers was not sent")
            #expect(seen == 20, "the documents of the batches already fetched are delivered before the refusal")
            #expect(recorder.count(of: "find") == 1)
            #expect(recorder.count(of: "getMore") == 1)
        }
    }

    @Test("a refused write is not sent")
    func refusesWrite() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = try await seedNumbers(database)
            recorder.reset()
            let error = await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(1) {
                    try await numbers.updateMany([:], ["$set": ["n": 0]])
                    try await numbers.deleteMany([:])
                }
            }
            #expect(error == QueryBudgetExceeded(limit: 1, commandName: "delete", collectionName: "numbers"))
            #expect(recorder.commandNames == ["update"])
            #expect(try await numbers.countDocuments() == 25)
        }
    }

    @Test("child tasks (async let, task groups) count toward their parent's budget")
    func coversChildTasks() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = try await seedNumbers(database)
            recorder.reset()
            let (total, commandsSent) = try await QueryBudget.count {
                async let first = readAll(numbers)
                async let second = numbers.countDocuments()
                let fromGroup = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<3 { group.addTask { try await readAll(numbers) } }
                    return try await group.reduce(0, +)
                }
                return try await first + second + fromGroup
            }
            #expect(total == 25 * 5)
            #expect(commandsSent == 4 * 3 + 1)
            #expect(recorder.startedEvents.count == commandsSent)
        }
    }

    @Test("a limit holds across concurrent child tasks: exactly the budget is sent")
    func limitAcrossChildTasks() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = database.collection("numbers")
            recorder.reset()
            await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(3) {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<6 { group.addTask { try await numbers.insertOne(["n": .int32(Int32(index))]) } }
                        try await group.waitForAll()
                    }
                }
            }
            #expect(recorder.count(of: "insert") == 3)
            let stored = try await numbers.countDocuments()
            #expect(stored == 3)
        }
    }

    @Test("budgets nest: an inner count sees its own commands, the outer limit all of them")
    func nestedBudgets() async throws {
        try await TestServer.withDatabase { database, _ in
            let numbers = try await seedNumbers(database)
            let error = await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(4) {
                    let (_, inner) = try await QueryBudget.count { try await readAll(numbers) }
                    #expect(inner == 3)
                    _ = try await numbers.countDocuments()
                    _ = try await numbers.countDocuments()
                }
            }
            #expect(error == QueryBudgetExceeded(limit: 4, commandName: "aggregate", collectionName: "numbers"))
        }
    }

    @Test("commands Tendril's threads send for the task count, and nothing else does")
    func coversTendrilThreads() async throws {
        try await TestServer.withDatabase { database, recorder in
            let numbers = try await seedNumbers(database)
            let (_, commandsSent) = try await QueryBudget.count {
                // A blocking read handed to Tendril's threads works for this task.
                try await BlockingExecutor.shared.run { _ = try numbers.find([:], options: FindOptions(batchSize: 10)).toArray() }
            }
            #expect(commandsSent == 3)
            // Another task's commands, sent at the same time, are not this budget's.
            recorder.reset()
            let (_, alone) = try await QueryBudget.count {
                async let outside: Int = Task.detached { try await readAll(numbers) }.value
                let inside = try await readAll(numbers)
                return try await inside + outside
            }
            #expect(alone == 3)
            #expect(recorder.startedEvents.count == 6)
        }
    }
}
