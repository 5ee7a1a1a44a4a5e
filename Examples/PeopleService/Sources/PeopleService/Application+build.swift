import Foundation
import Hummingbird
import Logging
import Tendril

/// Settings read from the environment by the executable, or given by tests.
public struct ServiceSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var mongoURI = "mongodb://127.0.0.1:27017/"
    public var databaseName = "people_service"
    public var logLevel = Logger.Level.info

    public init() {}

    /// `HOST`, `PORT`, `MONGODB_URI`, `DATABASE`, `LOG_LEVEL`, else the defaults.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ServiceSettings {
        var settings = ServiceSettings()
        if let host = environment["HOST"] { settings.host = host }
        if let port = environment["PORT"].flatMap(Int.init) { settings.port = port }
        if let uri = environment["MONGODB_URI"] { settings.mongoURI = uri }
        if let name = environment["DATABASE"] { settings.databaseName = name }
        if let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { settings.logLevel = level }
        return settings
    }
}

/// The application: routes, middleware, and the services that run beside the HTTP server.
public func buildApplication(_ settings: ServiceSettings) throws -> some ApplicationProtocol {
    var logger = Logger(label: "people-service")
    logger.logLevel = settings.logLevel
    // Tendril logs its commands (never document contents above trace) on this logger, at debug.
    var databaseLogger = Logger(label: "people-service.mongodb")
    databaseLogger.logLevel = settings.logLevel
    // Spans per operation and command (`find people_service.people`, MongoDB's OpenTelemetry
    // conventions) and per reference resolution, children of the request's span, sent to the
    // tracer the program bootstraps (`InstrumentationSystem.bootstrap`; none here: no-op).
    let client = try MongoClient(settings.mongoURI, appName: "people-service", backgroundLogger: databaseLogger,
                                 tracing: .enabled())
    let database = client.database(settings.databaseName)
    // Before any delete: deleting a person pulls them from friend lists and meetings.
    DeleteRules.register(Person.self, Meeting.self)

    let router = Router(context: BasicRequestContext.self)
    // Each request gets a logger with its own id: `context.logger` in the routes.
    router.addMiddleware {
        LogRequestsMiddleware(.info)
        // A span per request, whose context Tendril's spans inherit.
        TracingMiddleware()
        DocumentErrorMiddleware()
    }
    PeopleRoutes(database: database).add(to: router.group("people"))
    MeetingRoutes(database: database).add(to: router.group("meetings"))

    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "people-service"),
        // Run in the application's ServiceGroup: on SIGTERM or SIGINT the server stops taking
        // connections and finishes its requests, then the client (a Service itself) refuses
        // new operations, lets those in flight finish, kills open cursors and closes its pool.
        services: [client],
        logger: logger
    )
}

/// The `:id` parameter as an ObjectID (400 when it is not 24 hex digits).
func objectID(_ context: some RequestContext, _ name: String = "id") throws -> ObjectID {
    let text = try context.parameters.require(name)
    do {
        return try ObjectID(text)
    } catch {
        throw HTTPError(.badRequest, message: "\(name) is not an id: \(text)")
    }
}
