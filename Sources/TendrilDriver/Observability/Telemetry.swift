package import Metrics

/// What a client reports to besides its logger: its tracing switch and its metrics factory.
package struct Telemetry: Sendable {
    package let tracing: MongoTracing
    /// The factory given at creation, else nil: metrics then go to whatever the program
    /// bootstrapped (`MetricsSystem.factory`, a no-op until it does), read at each use.
    private let explicitMetricsFactory: (any MetricsFactory)?

    init(tracing: MongoTracing = .disabled, metricsFactory: (any MetricsFactory)? = nil) {
        self.tracing = tracing
        explicitMetricsFactory = metricsFactory
    }

    /// Where metrics go now.
    package var metricsFactory: any MetricsFactory {
        explicitMetricsFactory ?? MetricsSystem.factory
    }
}

/// The attribute and dimension names of MongoDB's OpenTelemetry specification, in one place.
package enum TelemetryName {
    package static let system = "db.system"
    package static let namespace = "db.namespace"
    package static let collection = "db.collection.name"
    package static let operation = "db.operation.name"
    package static let summary = "db.operation.summary"
    package static let command = "db.command.name"
    package static let serverAddress = "server.address"
    package static let serverPort = "server.port"
    package static let requestID = "db.mongodb.request_id"
    package static let cursorID = "db.mongodb.cursor_id"
    package static let queryText = "db.query.text"
    package static let errorType = "error.type"
    package static let statusCode = "db.response.status_code"
    /// The operation duration histogram, in seconds (recorded through a swift-metrics `Timer`).
    package static let operationDuration = "db.client.operation.duration"
}
