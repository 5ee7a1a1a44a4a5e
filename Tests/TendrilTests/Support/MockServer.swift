import Foundation

/// A scripted MongoDB for faults nx-27017 cannot produce: `Tests/Fixtures/mockupdb/scenario.py`
/// running one named scenario (CursorNotFound, a hang-up on a write, a server that never
/// answers, ...) on a free loopback port, in the test-server venv (`scripts/test.sh` installs
/// mockupdb there). The test talks to it, then calls ``finish()`` for the scenario's report of
/// what the server received.
final class MockServer {
    let port: Int
    private let process: ChildProcess
    private var finished = false

    init(_ scenario: String) throws {
        let python = Repository.root.appendingPathComponent(".venv-testserver/bin/python").path
        let script = Repository.root.appendingPathComponent("Tests/Fixtures/mockupdb/scenario.py").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw FixtureError("\(python) is missing: run the tests with `bash scripts/test.sh`, which installs mockupdb")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = nil
        environment["PYTHONHOME"] = nil
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tendril-mockupdb-\(scenario).log").path
        process = try ChildProcess([python, script, scenario], environment: environment, errorLog: log)
        guard let line = process.readLine(), line.hasPrefix("port "), let port = Int(line.dropFirst(5)) else {
            throw FixtureError("mockupdb scenario \(scenario) did not start; see \(log)")
        }
        self.port = port
    }

    deinit {
        if !finished { _ = try? finish() }
    }

    /// A URI for this server with `options` (`"socketTimeoutMS=300"`).
    func uri(_ options: String = "") -> String {
        "mongodb://127.0.0.1:\(port)/" + (options.isEmpty ? "" : "?" + options)
    }

    /// Ends the scenario and returns its report: `counts` of each command received (lowercased
    /// names) plus what the scenario recorded.
    func finish() throws -> [String: Any] {
        finished = true
        process.closeInput()
        let output = process.readToEnd()
        process.waitForExit()
        guard let data = output.split(separator: "\n").last.map({ Data($0.utf8) }),
              let report = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("the mockupdb scenario wrote no report: \(output)")
        }
        return report
    }

    /// How many `command` requests the server received, from a report.
    static func count(_ command: String, in report: [String: Any]) -> Int {
        (report["counts"] as? [String: Any])?[command.lowercased()] as? Int ?? 0
    }
}
