public import Tracing

/// Whether a ``MongoClient`` traces its operations, and how: set once, when the client is
/// created.
///
/// ```swift
/// let client = try MongoClient("mongodb://127.0.0.1:27017/", tracing: .enabled())
/// ```
///
/// An enabled client starts one span per operation, named like `find app.people` (kind
/// `client`), with a nested span per command sent (the `find` and each `getMore`), following
/// MongoDB's OpenTelemetry specification: `db.system`, `db.namespace`, `db.collection.name`,
/// `db.operation.name`, `db.operation.summary`, `server.address`, `server.port`,
/// `db.command.name`, `db.mongodb.request_id`, `db.mongodb.cursor_id`, and on failure the
/// recorded error with `error.type` and `db.response.status_code`. See "Tracing" in
/// `docs/driver.md`.
/// > Note: `db.query.text` (the command as extended JSON) holds the values the program sent:
/// it is off unless ``includesQueryText`` is set.
public struct MongoTracing: Sendable {
    /// Whether spans are started at all.
    public var isEnabled: Bool
    /// The tracer spans go to; nil: the one `InstrumentationSystem.bootstrap` installed when
    /// the span starts (a no-op tracer until a program bootstraps one).
    public var tracer: (any Tracer)?
    /// Whether command spans carry `db.query.text`, the command as relaxed extended JSON.
    public var includesQueryText: Bool
    /// The most characters of `db.query.text` kept (the rest is cut).
    public var queryTextMaxLength: Int

    /// No spans: the default.
    public static let disabled = MongoTracing(isEnabled: false, tracer: nil, includesQueryText: false, queryTextMaxLength: 0)

    /// Spans for every operation and command.
    ///
    /// ```swift
    /// let tracing = MongoTracing.enabled(includesQueryText: true)   // commands shown in full
    /// ```
    /// - Parameters:
    ///   - tracer: where spans go; by default the tracer the program bootstrapped.
    ///   - includesQueryText: add `db.query.text` to command spans (off by default: it shows
    ///     the values sent).
    ///   - queryTextMaxLength: the most characters of `db.query.text` kept.
    public static func enabled(tracer: (any Tracer)? = nil, includesQueryText: Bool = false,
                               queryTextMaxLength: Int = 1000) -> MongoTracing {
        MongoTracing(isEnabled: true, tracer: tracer, includesQueryText: includesQueryText,
                     queryTextMaxLength: max(queryTextMaxLength, 0))
    }

    /// The tracer to start spans with now, or nil when tracing is off.
    package var activeTracer: (any Tracer)? {
        isEnabled ? (tracer ?? InstrumentationSystem.tracer) : nil
    }
}
