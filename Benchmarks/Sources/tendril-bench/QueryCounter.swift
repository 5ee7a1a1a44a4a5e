import Foundation
import Tendril

/// Counts the commands a client sends, by name, keeping nothing else: unlike
/// `CommandRecorder`, it allocates nothing per command, so it does not show up as heap growth.
final class QueryCounter: CommandObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var finds = 0
    private var others = 0

    /// Names are enough: the client then never copies command or reply documents for it.
    var observesDocuments: Bool { false }

    func commandStarted(_ event: CommandStartedEvent) {
        lock.lock()
        if event.commandName == "find" { finds += 1 } else { others += 1 }
        lock.unlock()
    }

    /// `find` commands sent since the last reset.
    var findCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return finds
    }

    /// Commands other than `find` sent since the last reset.
    var otherCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return others
    }

    func reset() {
        lock.lock()
        finds = 0
        others = 0
        lock.unlock()
    }
}
