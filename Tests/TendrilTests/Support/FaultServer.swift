import Foundation
import TendrilDriver

/// A private nx-27017 a fault test may kill and restart: its own run directory (pid and log
/// files), the port of its first start kept, so a restart comes back where clients look, and its databases in files
/// so committed documents survive the restart. Started and stopped through
/// `scripts/test-server.sh`; killed by the PID it recorded, never by name.
final class FaultServer {
    /// Chosen by `test-server.sh` at the first start (a free port, retried if taken meanwhile),
    /// then kept, so a restart comes back where the clients look.
    private(set) var port: Int?
    let runDirectory: URL
    private(set) var uri = ""

    init() throws {
        runDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tendril-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        _ = try? script("stop")
        try? FileManager.default.removeItem(at: runDirectory)
    }

    /// Starts (or restarts) the server on its port, with its data.
    func start() throws {
        uri = try script("start").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let started = URLComponents(string: uri)?.port else { throw FixtureError("test-server.sh printed no port: \(uri)") }
        port = started
    }

    /// Restarts the server on its port; retried briefly, since a client connection of another
    /// test may take the free port as its own local port for a moment.
    func restart() throws {
        for attempt in 1... {
            do {
                return try start()
            } catch where attempt < 10 {
                usleep(300_000)
            }
        }
    }

    /// Kills the server abruptly (SIGKILL, by its recorded PID): connections drop mid-reply.
    func kill() throws {
        let pidFile = runDirectory.appendingPathComponent("server.pid")
        let text = try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text) else { throw FixtureError("no PID in \(pidFile.path)") }
        Foundation.kill(pid, SIGKILL)
        // nx was reparented when the script exited; until its new parent reaps it, it is a
        // zombie that kill(pid, 0) still finds, so "gone" means absent or state Z.
        for _ in 0..<100 where Self.isRunning(pid) { usleep(20_000) }
        try? FileManager.default.removeItem(at: pidFile)
    }

    private static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let afterName = stat.range(of: ") ", options: .backwards) else { return false }
        return !stat[afterName.upperBound...].hasPrefix("Z")
    }

    /// The URI with `options` added.
    func uri(adding options: String) -> String {
        TestServer.uri(uri, adding: options)
    }

    @discardableResult
    private func script(_ command: String) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["TENDRIL_TESTSERVER_DIR"] = runDirectory.path
        environment["TENDRIL_TESTSERVER_PORT"] = port.map(String.init)
        environment["TENDRIL_TESTSERVER_DATA_DIR"] = runDirectory.appendingPathComponent("data").path
        let script = Repository.root.appendingPathComponent("scripts/test-server.sh").path
        let process = try ChildProcess(["/bin/bash", script, command], environment: environment,
                                       errorLog: runDirectory.appendingPathComponent("script.log").path)
        let output = process.readToEnd()
        guard process.waitForExit() == 0 else {
            let logs = ["script.log", "server.log"].map { runDirectory.appendingPathComponent($0) }
            let tail = logs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined().suffix(1500)
            throw FixtureError("test-server.sh \(command) failed:\n\(tail)")
        }
        return output
    }
}
