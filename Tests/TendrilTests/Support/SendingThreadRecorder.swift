@testable import TendrilDriver

/// Records, for each command sent, whether it left from one of Tendril's executor threads
/// (libmongoc calls APM callbacks on the thread that sends the command).
final class SendingThreadRecorder: CommandObserver {
    private let sent = Locked<[(name: String, onExecutor: Bool)]>([])

    func commandStarted(_ event: CommandStartedEvent) {
        let onExecutor = BlockingExecutor.isCurrentThreadExecutorThread
        sent.withLock { $0.append((event.commandName, onExecutor)) }
    }

    /// For each command named `name`, in order: was it sent from an executor thread?
    func sentFromExecutor(_ name: String) -> [Bool] {
        sent.withLock { $0.filter { $0.name == name }.map(\.onExecutor) }
    }

    /// The names of the commands sent, each once.
    var commandNames: Set<String> { sent.withLock { Set($0.map(\.name)) } }

    /// True when every command was sent from an executor thread.
    var allSentFromExecutor: Bool { sent.withLock { $0.allSatisfy(\.onExecutor) } }
}
