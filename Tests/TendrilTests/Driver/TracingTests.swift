import InMemoryTracing
import Testing
import Tracing
@testable import TendrilDriver

/// Spans per MongoDB's OpenTelemetry specification, recorded by an in-memory tracer given to
/// the client (no global bootstrap).
@Suite("Tracing")
struct TracingTests {
    /// A client tracing to a new in-memory tracer, a uniquely named collection, and the tracer.
    static func withTracedCollection<R>(
        _ tracing: (InMemoryTracer) -> MongoTracing = { .enabled(tracer: $0) },
        _ body: (MongoCollection, InMemoryTracer) async throws -> R
    ) async throws -> R {
        let tracer = InMemoryTracer()
        let client = try MongoClient(try TestServer.uri(), tracing: tracing(tracer))
        let database = client.database("tendril_test_tracing_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        do {
            let result = try await body(database.collection("people"), tracer)
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }

    @Test("an operation span named '<op> <db>.<coll>' with the spec's attributes, and a nested command span")
    func operationAndCommandSpans() async throws {
        try await Self.withTracedCollection { people, tracer in
            try await people.insertOne(["name": "Ada"])
            _ = try await people.findOne(["name": "Ada"])
            let spans = tracer.finishedSpans
            let namespace = "\(people.database.name).people"
            let insert = try #require(spans.first { $0.operationName == "insert \(namespace)" })
            #expect(insert.kind == .client)
            #expect(insert.text("db.system") == "mongodb")
            #expect(insert.text("db.namespace") == people.database.name)
            #expect(insert.text("db.collection.name") == "people")
            #expect(insert.text("db.operation.name") == "insert")
            #expect(insert.text("db.operation.summary") == "insert \(namespace)")
            #expect(insert.has("server.address"))
            #expect(insert.has("server.port"))
            let commands = spans.filter { $0.parentSpanID == insert.spanID }
            #expect(commands.map(\.operationName) == ["insert"])
            #expect(commands.first?.text("db.command.name") == "insert")
            #expect(commands.first?.has("db.mongodb.request_id") == true)
            #expect(commands.first?.traceID == insert.traceID)
            #expect(spans.contains { $0.operationName == "find \(namespace)" })
            #expect(!spans.contains { $0.has("db.query.text") }, "db.query.text is off by default")
        }
    }

    @Test("each getMore of a cursor is an operation of its own with the cursor id")
    func getMoreSpans() async throws {
        try await Self.withTracedCollection { people, tracer in
            try await people.insertMany((0..<5).map { ["n": .int32(Int32($0))] })
            let cursor = try await people.find([:], options: FindOptions(batchSize: 2))
            var count = 0
            for try await _ in cursor { count += 1 }
            #expect(count == 5)
            let getMores = tracer.finishedSpans.filter { $0.operationName.hasPrefix("getMore ") }
            #expect(getMores.count == 2)
            #expect(getMores.allSatisfy { $0.has("db.mongodb.cursor_id") })
        }
    }

    @Test("db.query.text when the client opts in, cut at the maximum length", arguments: [1000, 20])
    func queryTextOptIn(maximumLength: Int) async throws {
        try await Self.withTracedCollection({ .enabled(tracer: $0, includesQueryText: true, queryTextMaxLength: maximumLength) }) { people, tracer in
            try await people.insertOne(["name": "Grace"])
            let command = try #require(tracer.finishedSpans.first { $0.operationName == "insert" })
            let text = try #require(command.text("db.query.text"))
            #expect(text.hasPrefix(#"{ "insert" : "people""#.prefix(maximumLength)))
            #expect(maximumLength < 1000 ? text.count == maximumLength : text.contains("Grace"))
        }
    }

    @Test("the task's span is the parent, across the hop to Tendril's threads")
    func parentFromTheTask() async throws {
        try await Self.withTracedCollection { people, tracer in
            let request = tracer.startSpan("GET /people", context: .topLevel)
            try await ServiceContext.withValue(request.context) {
                _ = try await people.countDocuments()
            }
            request.end()
            let count = try #require(tracer.finishedSpans.first { $0.operationName.hasPrefix("aggregate ") })
            #expect(count.parentSpanID == request.spanID)
            #expect(count.traceID == request.traceID)
        }
    }

    @Test("a failed operation records its error, error.type and db.response.status_code")
    func errorsAreRecorded() async throws {
        try await Self.withTracedCollection { people, tracer in
            try await people.insertOne(["_id": 1])
            let error = await #expect(throws: MongoError.self) { try await people.insertOne(["_id": 1]) }
            let failed = try #require(tracer.finishedSpans.last { $0.operationName.hasPrefix("insert ") })
            #expect(failed.errors.count == 1)
            #expect(failed.text("error.type") == error?.kind.rawValue)
            #expect(failed.text("db.response.status_code") == "11000")
            #expect(failed.status?.code == .error)
        }
    }

    @Test("a client created without tracing starts no span")
    func disabledByDefault() async throws {
        try await Self.withTracedCollection({ _ in .disabled }) { people, tracer in
            try await people.insertOne(["name": "Ada"])
            #expect(tracer.finishedSpans.isEmpty)
            #expect(!people.database.client.tracing.isEnabled)
        }
    }
}

extension FinishedInMemorySpan {
    /// The string attribute `key`, if the span has one.
    func text(_ key: String) -> String? {
        guard case .string(let value)? = attributes.get(key) else { return nil }
        return value
    }

    /// Whether the span has the attribute `key`.
    func has(_ key: String) -> Bool { attributes.get(key) != nil }
}
