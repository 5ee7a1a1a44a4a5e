import Logging
import ServiceLifecycle
import Tendril

/// Keeps the `MongoClient` for the service's lifetime and lets it go on graceful shutdown,
/// after the HTTP server (listed before it) has finished its requests.
///
/// Issue 18, item 4 makes `MongoClient` a `Service` of its own (stop handing out connections,
/// finish in-flight operations, kill open cursors): once it lands, list the client itself in
/// `services:` and delete this type.
public actor DatabaseService: Service {
    private var client: MongoClient?
    private let logger: Logger

    public init(client: MongoClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func run() async throws {
        // Returns on graceful shutdown (SIGTERM, SIGINT) or cancellation.
        do {
            try await gracefulShutdown()
        } catch is CancellationError {
            logger.debug("database service cancelled")
        }
        client = nil   // the pool closes when the last holder (routes finished) lets it go
        logger.info("database client released")
    }
}
