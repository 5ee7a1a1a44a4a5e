import Metrics
import TendrilDriver
import Tracing

/// Tendril's own telemetry of a reference resolution, when the target's client traces or a
/// metrics backend is in place (else nothing is measured):
///
/// - a span `resolve <collection>` (kind internal, the parent of the `find` it sends) with
///   `db.system`, `db.collection.name`, `tendril.reference.field`, `tendril.reference.ids`
///   (the ids asked, at most ``maximumIDsShown``), `tendril.reference.ids_asked`,
///   `tendril.cache.hits`, `tendril.cache.misses`, `tendril.cache.policy`, `tendril.fetch_mode`;
/// - the counters `tendril.reference_cache.hits`, `.misses`, `.evictions` and `.queries`, with
///   the dimension `db.collection.name` of the documents resolved.
///
/// Both are read from the cache's ``ReferenceCacheStatistics``: a span's hits and misses are
/// what the cache counted during the resolution (with those of another task resolving through
/// the same cache at that moment), and the counters add up to the statistics exactly.
enum ReferenceResolutionObservation {
    /// The most ids a span lists (it counts them all).
    static let maximumIDsShown = 100

    static func run<Result>(_ cache: ReferenceCache, ids: [ObjectID], as type: Document.Type, access: LazyAccess?,
                            _ resolve: () throws -> Result) throws -> Result {
        let client = (cache.settings?.database ?? type.database)?.client
        let tracer = client?.tracing.activeTracer
        let metrics = client.map(\.metricsFactory).flatMap { $0 is NOOPMetricsHandler ? nil : $0 }
        guard tracer != nil || metrics != nil else { return try resolve() }

        let before = cache.statistics
        let span = tracer.map { tracer in
            let span = tracer.startSpan("resolve \(type.collectionName)", context: ServiceContext.current ?? .topLevel, ofKind: .internal)
            span.attributes[TelemetryName.system] = "mongodb"
            span.attributes[TelemetryName.collection] = type.collectionName
            if let field = access?.field { span.attributes["tendril.reference.field"] = field }
            span.attributes["tendril.reference.ids"] = ids.prefix(maximumIDsShown).map(\.hex)
            span.attributes["tendril.reference.ids_asked"] = ids.count
            span.attributes["tendril.cache.policy"] = "\(cache.policy)"
            span.attributes["tendril.fetch_mode"] = "\(access?.mode ?? cache.fetchMode)"
            return span
        }
        defer {
            let after = cache.statistics
            if let span {
                span.attributes["tendril.cache.hits"] = after.hits - before.hits
                span.attributes["tendril.cache.misses"] = after.misses - before.misses
                span.end()
            }
            if let metrics { report(after, of: cache, collection: type.collectionName, to: metrics) }
        }
        do {
            // The queries it sends are children of this span.
            return try ServiceContext.withValue(span?.context ?? ServiceContext.current) { try resolve() }
        } catch {
            span?.recordError(error)
            throw error
        }
    }

    /// Adds what `statistics` counted since the cache's last report to the counters.
    private static func report(_ statistics: ReferenceCacheStatistics, of cache: ReferenceCache, collection: String,
                               to factory: any MetricsFactory) {
        let increments: [(String, Int)] = cache.reportedCounters.withLock { reported in
            // A snapshot older than the last one reported adds nothing: counters only grow.
            defer {
                reported.hits = max(reported.hits, statistics.hits)
                reported.misses = max(reported.misses, statistics.misses)
                reported.evictions = max(reported.evictions, statistics.evictions)
                reported.queries = max(reported.queries, statistics.queries)
            }
            return [("hits", statistics.hits - reported.hits), ("misses", statistics.misses - reported.misses),
                    ("evictions", statistics.evictions - reported.evictions), ("queries", statistics.queries - reported.queries)]
        }
        for (name, increment) in increments where increment > 0 {
            Counter(label: "tendril.reference_cache.\(name)", dimensions: [(TelemetryName.collection, collection)], factory: factory)
                .increment(by: increment)
        }
    }
}
