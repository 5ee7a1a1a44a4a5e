internal import CTendrilMongoC
import Logging

/// libmongoc's own messages (a server it cannot reach, an unsupported URI option, ...): its log
/// handler is one for the whole process, so they go to one logger, the background logger of the
/// most recently created ``MongoClient`` that has one, at `.debug` (libmongoc's error,
/// critical, warning, message and info levels) or `.trace` (its debug and trace levels).
/// Without such a client they are dropped: a library does not print to a host's stdout, which
/// libmongoc's default handler does.
/// > Note: libmongoc calls the handler under its own mutex: a `LogHandler` must not call back
/// into Tendril or libmongoc while logging.
enum LibmongocLogging {
    private static let destination = Locked<Logger?>(nil)

    /// Replaces libmongoc's default handler, once per process.
    private static let installed: Void = {
        mongoc_log_set_handler({ level, domain, message, _ in
            LibmongocLogging.forward(level: level, domain: domain, message: message)
        }, nil)
    }()

    /// Makes sure libmongoc logs through Tendril (called when a client is created).
    static func install() {
        _ = installed
    }

    /// Sends libmongoc's messages to `logger` from now on.
    static func route(to logger: Logger) {
        install()
        destination.withLock { $0 = logger }
    }

    private static func forward(level: mongoc_log_level_t, domain: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        guard let logger = destination.withLock({ $0 }) else { return }
        let swiftLevel: Logger.Level = level == MONGOC_LOG_LEVEL_DEBUG || level == MONGOC_LOG_LEVEL_TRACE ? .trace : .debug
        guard logger.logLevel <= swiftLevel else { return }
        let text = message.map { String(cString: $0) } ?? ""
        logger.log(level: swiftLevel, "\(text)", metadata: [
            "libmongoc.domain": "\(domain.map { String(cString: $0) } ?? "")",
            "libmongoc.level": "\(mongoc_log_level_str(level).map { String(cString: $0) } ?? "\(level.rawValue)")",
        ])
    }
}
