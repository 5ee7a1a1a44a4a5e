import Foundation
import Tendril

/// What every server benchmark needs before it starts: a server (the local test server unless
/// `MONGODB_URI` names one), glibc's per-thread cache off (it hides frees from `mallinfo2`),
/// and a fresh database it drops afterwards.
enum BenchEnvironment {
    /// The repository's root: this file is `Benchmarks/Sources/tendril-bench/BenchEnvironment.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let tunables = "glibc.malloc.tcache_count=0"

    /// Runs this process again under `scripts/with-test-server.sh` (which starts nx-27017 on a
    /// free port, exports `MONGODB_URI` and stops the server by PID afterwards) unless
    /// `MONGODB_URI` is set, and, when `disablingThreadCache` (heap measurements), with
    /// `GLIBC_TUNABLES` turning glibc's per-thread cache off for this process only. Returns only
    /// when both are in place.
    static func ensureServer(disablingThreadCache: Bool) {
        let environment = ProcessInfo.processInfo.environment
        let needsServer = environment["MONGODB_URI"]?.isEmpty ?? true
        let currentTunables = environment["GLIBC_TUNABLES"] ?? ""
        let needsTunables = disablingThreadCache && !currentTunables.contains("tcache_count=0")
        guard needsServer || needsTunables else { return }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var command = [executable] + CommandLine.arguments.dropFirst()
        if needsTunables {
            // Set for this program only (through env), added to any tunables already given.
            command = ["/usr/bin/env", "GLIBC_TUNABLES=" + (currentTunables.isEmpty ? tunables : currentTunables + ":" + tunables)] + command
        }
        if needsServer {
            command = ["/bin/bash", repositoryRoot.appendingPathComponent("scripts/with-test-server.sh").path] + command
        }
        // execv keeps the calling thread's signal mask, and this runs on a concurrency pool
        // thread, which blocks most signals: the scripts, the test server and this benchmark
        // would then ignore SIGTERM and SIGINT (the server's stop waited 10 s for its SIGKILL).
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        pthread_sigmask(SIG_SETMASK, &unblocked, nil)
        var cArguments = command.map { strdup($0) } + [nil]
        execv(command[0], &cArguments)
        FileHandle.standardError.write(Data("tendril-bench: could not run \(command[0]): \(String(cString: strerror(errno)))\n".utf8))
        exit(1)
    }

    /// A client of `MONGODB_URI` counting its commands, and a database of its own, dropped after
    /// `body` (also when it throws).
    static func withDatabase<R>(_ body: (MongoDatabase, QueryCounter) async throws -> R) async throws -> R {
        let client = try MongoClient(try uri())
        let recorder = QueryCounter()
        client.addCommandObserver(recorder)
        let database = client.database("tendril_bench_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
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

extension BenchEnvironment {
    /// The server's URI (`MONGODB_URI`, set by the caller or by the test-server script).
    static func uri() throws -> String {
        guard let uri = ProcessInfo.processInfo.environment["MONGODB_URI"], !uri.isEmpty else {
            throw ValidationFailure("MONGODB_URI is not set")
        }
        return uri
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One line on standard error, rewritten in place: what the benchmark is doing now.
/// Only on a terminal: logs (CI) get no control characters.
enum Progress {
    /// Shown on a terminal, or anywhere with TENDRIL_BENCH_PROGRESS=1 (for a profiler to wait on a phase).
    static let isTerminal = isatty(STDERR_FILENO) != 0 || ProcessInfo.processInfo.environment["TENDRIL_BENCH_PROGRESS"] == "1"

    static func show(_ message: String) {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8)) }
    }

    static func done() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Wall-clock milliseconds taken by `body`.
func milliseconds<R>(_ body: () throws -> R) rethrows -> (R, Double) {
    let start = ContinuousClock.now
    let result = try body()
    let elapsed = ContinuousClock.now - start
    return (result, Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
}
