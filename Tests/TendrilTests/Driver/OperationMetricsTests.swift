import Metrics
import MetricsTestKit
import Testing
@testable import TendrilDriver

/// `db.client.operation.duration`, recorded by swift-metrics' test factory given to the client.
@Suite("Operation metrics")
struct OperationMetricsTests {
    @Test("one duration per operation, with the spec's dimensions")
    func operationDuration() async throws {
        let metrics = TestMetrics()
        let client = try MongoClient(try TestServer.uri(), metricsFactory: metrics)
        let database = client.database("tendril_test_metrics_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        let people = database.collection("people")
        try await people.insertOne(["name": "Ada"])
        try await people.insertOne(["name": "Grace"])
        _ = try await people.countDocuments()
        try await database.drop()

        let timers = metrics.timers.filter { $0.label == "db.client.operation.duration" }
        let inserts = timers.filter { $0.dimensions.contains { $0 == ("db.operation.name", "insert") } }
        #expect(inserts.count == 1, "one timer per dimension set")
        let insert = try #require(inserts.first)
        #expect(insert.values.count == 2)
        for expected in [("db.system", "mongodb"), ("db.namespace", database.name), ("db.collection.name", "people"),
                         ("db.operation.summary", "insert \(database.name).people")] {
            #expect(insert.dimensions.contains { $0 == expected }, "missing \(expected)")
        }
        #expect(insert.dimensions.contains { $0.0 == "server.address" })
        #expect(timers.contains { $0.dimensions.contains { $0 == ("db.operation.name", "aggregate") } })
    }

    @Test("a failed operation carries error.type and db.response.status_code")
    func failedOperation() async throws {
        let metrics = TestMetrics()
        let client = try MongoClient(try TestServer.uri(), metricsFactory: metrics)
        let database = client.database("tendril_test_metrics_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        try await database.collection("people").insertOne(["_id": 1])
        let error = await #expect(throws: MongoError.self) { try await database.collection("people").insertOne(["_id": 1]) }
        try await database.drop()
        let failed = try #require(metrics.timers.first { $0.dimensions.contains { $0.0 == "error.type" } })
        #expect(failed.dimensions.contains { $0 == ("error.type", error?.kind.rawValue ?? "") })
        #expect(failed.dimensions.contains { $0 == ("db.response.status_code", "11000") })
        #expect(failed.values.count == 1)
    }
}
