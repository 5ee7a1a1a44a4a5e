import Foundation
import Testing
import TendrilDriver

/// The server under test: `$MONGODB_URI`, set by `scripts/test.sh` (which starts a local
/// nx-27017) or by the developer (a real mongod). Each test gets a database of its own.
enum TestServer {
    /// True when `scripts/with-test-server.sh` started nx-27017 for this run. Tests of behaviour
    /// where nx differs from MongoDB wrap it in `withKnownIssue(..., when: isNX)`: strict against
    /// a real mongod, recorded (and re-checked) against nx. See docs/server-compatibility.md.
    static var isNX: Bool {
        ProcessInfo.processInfo.environment["TENDRIL_TEST_SERVER"] == "nx-27017"
    }

    static func uri() throws -> String {
        guard let uri = ProcessInfo.processInfo.environment["MONGODB_URI"], !uri.isEmpty else {
            Issue.record("""
                MONGODB_URI is not set: run the tests with `bash scripts/test.sh` (starts a local test \
                server), or export MONGODB_URI=mongodb://HOST:PORT/ for a running mongod.
                """)
            throw MongoError(kind: .invalidArgument, message: "MONGODB_URI is not set")
        }
        return uri
    }

    /// The server's URI with `options` (`"maxPoolSize=1&waitQueueTimeoutMS=200"`) added.
    static func uri(adding options: String) throws -> String {
        uri(try uri(), adding: options)
    }

    /// `base` with `options` added.
    static func uri(_ base: String, adding options: String) -> String {
        let separator = base.contains("?") ? "&" : (base.hasSuffix("/") ? "?" : "/?")
        return base + separator + options
    }

    /// A fresh client, a recorder of its commands, and a uniquely named database dropped afterwards.
    static func withDatabase<R>(
        uriOptions: String = "",
        _ body: (MongoDatabase, CommandRecorder) async throws -> R
    ) async throws -> R {
        let client = try MongoClient(try uri() + uriOptions)
        let recorder = CommandRecorder()
        client.addCommandObserver(recorder)
        let database = client.database("tendril_test_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        do {
            let result = try await body(database, recorder)
            try await database.drop()
            return result
        } catch {
            try? await database.drop()
            throw error
        }
    }
}
