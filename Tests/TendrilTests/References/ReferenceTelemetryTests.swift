import InMemoryTracing
import Metrics
import MetricsTestKit
import Testing
import Tracing
@testable import Tendril
@testable import TendrilDriver

/// Tendril's span per reference resolution and the reference-cache counters, on a client given
/// an in-memory tracer and swift-metrics' test factory.
@Suite("References: tracing and metrics")
struct ReferenceTelemetryTests {
    @Test("a span per resolution with field, ids, hits, misses, policy and fetch mode; its find nested inside; counters per collection")
    func resolutionSpanAndCounters() async throws {
        let tracer = InMemoryTracer()
        let metrics = TestMetrics()
        let client = try MongoClient(try TestServer.uri(), tracing: .enabled(tracer: tracer), metricsFactory: metrics)
        let database = client.database("tendril_test_reftelemetry_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        do {
            let (parentID, friendIDs) = try await PalFixture.seed(3, in: database)
            let parent = try await Pal.objects.using(database).cachePolicy(.strong).fetchMode(.one).get(parentID).unwrapped("parent")
            tracer.clearAll()

            _ = try await parent.$friends.value(at: 0)   // a miss: one query
            _ = try await parent.$friends.value(at: 0)   // a hit: none

            let resolutions = tracer.finishedSpans.filter { $0.operationName == "resolve Pal" }
            #expect(resolutions.count == 2)
            let miss = try #require(resolutions.first)
            #expect(miss.kind == .internal)
            #expect(miss.text("tendril.reference.field") == "friends")
            #expect(miss.attributes.get("tendril.reference.ids") == .stringArray([friendIDs[0].hex]))
            #expect(miss.attributes.get("tendril.reference.ids_asked") == .int64(1))
            #expect(miss.attributes.get("tendril.cache.misses") == .int64(1))
            #expect(miss.attributes.get("tendril.cache.hits") == .int64(0))
            #expect(miss.text("tendril.cache.policy") == "strong")
            #expect(miss.text("tendril.fetch_mode") == "one")
            let find = try #require(tracer.finishedSpans.first { $0.operationName == "find \(database.name).Pal" })
            #expect(find.parentSpanID == miss.spanID, "the query is a child of the resolution")
            #expect(resolutions.last?.attributes.get("tendril.cache.hits") == .int64(1))

            let dimensions = [("db.collection.name", "Pal")]
            #expect(try metrics.expectCounter("tendril.reference_cache.misses", dimensions).totalValue == 1)
            #expect(try metrics.expectCounter("tendril.reference_cache.hits", dimensions).totalValue == 1)
            #expect(try metrics.expectCounter("tendril.reference_cache.queries", dimensions).totalValue == 1)
            #expect(!metrics.counters.contains { $0.label == "tendril.reference_cache.evictions" })
            try await database.drop()
        } catch {
            try? await database.drop()
            throw error
        }
    }
}
