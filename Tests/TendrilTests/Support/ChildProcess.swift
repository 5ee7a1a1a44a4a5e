import Foundation

/// A helper process for the fault tests (a test-server script, a mockupdb scenario), started
/// with `posix_spawn` and reaped with `waitpid`. Foundation's `Process` can miss a child's exit
/// on Linux and hang in `waitUntilExit`; a fault test must never hang on its own fixture.
final class ChildProcess {
    let pid: pid_t
    /// The write end of the child's stdin, or -1 once closed.
    private var input: Int32
    /// The read end of the child's stdout.
    private let output: Int32
    private var status: Int32?
    private static let spawning = NSLock()

    /// Starts `arguments[0]` (a path) with its stdin and stdout piped to this process and its
    /// stderr appended to `errorLog` (or discarded). The pipes are close-on-exec, so no other
    /// child holds them open.
    init(_ arguments: [String], environment: [String: String], errorLog: String? = nil) throws {
        // From pipe() to the close of the child's ends, no other spawn of this process may run:
        // its child would inherit these pipes (Glibc's module does not export pipe2 or
        // addclosefrom_np) and hold them open, delaying our end of file by its whole lifetime.
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0 else { throw FixtureError("pipe failed: errno \(errno)") }
        guard pipe(&stdoutPipe) == 0 else {
            stdinPipe.forEach { close($0) }
            throw FixtureError("pipe failed: errno \(errno)")
        }
        for descriptor in stdinPipe + stdoutPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the child's 0 and 1; the originals close at exec.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, errorLog ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, arguments[0], &actions, nil, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            throw FixtureError("cannot start \(arguments[0]): error \(spawned)")
        }
        pid = child
        input = stdinPipe[1]
        output = stdoutPipe[0]
    }

    deinit {
        closeInput()
        if status == nil {
            kill(pid, SIGKILL)
            _ = waitForExit()
        }
        close(output)
    }

    /// The next line of stdout without its newline, or nil at end of file.
    func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(output, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    /// Everything the child writes to stdout until it closes it.
    func readToEnd() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count > 0 { data += buffer[0..<count] } else if count == 0 || errno != EINTR { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Closes the child's stdin: end of file for it.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// Waits for the child to exit and returns its exit status (128 + N when killed by signal N).
    @discardableResult
    func waitForExit() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        status = code
        return code
    }
}

/// A test fixture (a helper process, a server it starts) that failed to set up.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The checkout the tests were built from: fixtures and scripts are read in place.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
