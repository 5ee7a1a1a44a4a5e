import Foundation

/// Threads of Tendril's own for the blocking libmongoc calls behind the async API.
///
/// Swift's cooperative pool has one thread per core; a libmongoc call that waits on the
/// network (or on `mongoc_client_pool_pop`) would hold one of them hostage. Async
/// variants therefore hand the call to these threads and suspend until it finishes.
/// Threads start on demand, up to `maximumThreads`, and then stay parked for reuse.
final class BlockingExecutor: @unchecked Sendable {
    /// Shared by every client: the limit is on blocked threads in the process.
    static let shared = BlockingExecutor(maximumThreads: 64)
    /// Marks executor threads (Foundation on Linux does not apply thread names).
    static let threadMarker = "tendril.blocking-executor"

    /// True on the executor's own threads: how tests prove async calls leave the cooperative pool.
    static var isCurrentThreadExecutorThread: Bool {
        Thread.current.threadDictionary[threadMarker] as? Bool ?? false
    }

    private let condition = NSCondition()
    private let maximumThreads: Int
    // Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []
    private var threadCount = 0
    private var idleThreads = 0

    init(maximumThreads: Int) {
        self.maximumThreads = maximumThreads
    }

    /// Runs `body` on an executor thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let needsThread = idleThreads == 0 && threadCount < maximumThreads
        if needsThread { threadCount += 1 }
        condition.signal()
        condition.unlock()
        if needsThread {
            Thread { [self] in work() }.start()
        }
    }

    private func work() {
        Thread.current.threadDictionary[Self.threadMarker] = true
        while true {
            condition.lock()
            while jobs.isEmpty {
                idleThreads += 1
                condition.wait()
                idleThreads -= 1
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
