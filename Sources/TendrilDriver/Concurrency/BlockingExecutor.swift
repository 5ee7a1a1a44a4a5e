import Foundation
import Logging
import Tracing

/// Threads of Tendril's own for the blocking libmongoc calls behind the async API.
///
/// Swift's cooperative pool has one thread per core; a libmongoc call that waits on the
/// network (or on `mongoc_client_pool_pop`) would hold one of them hostage. Async variants
/// therefore hand the call to these threads and suspend until it finishes.
///
/// Every queued job gets a thread: there is no cap, because a capped pool can deadlock when
/// all its threads wait in `mongoc_client_pool_pop` for connections that only a queued job
/// (a cursor's next batch or its close) would give back. The number of threads therefore
/// follows the number of calls blocked at once, which libmongoc's `maxPoolSize` and
/// `waitQueueTimeoutMS` bound; threads idle for `idleLifetime` exit.
package final class BlockingExecutor: @unchecked Sendable {
    package static let shared = BlockingExecutor(idleLifetime: 30)

    /// Marks executor threads (Foundation on Linux does not apply thread names).
    static let threadMarker = "tendril.blocking-executor"

    /// True on the executor's own threads: how tests prove async calls leave the cooperative pool.
    static var isCurrentThreadExecutorThread: Bool {
        Thread.current.threadDictionary[threadMarker] as? Bool ?? false
    }

    private let condition = NSCondition()
    private let idleLifetime: TimeInterval
    // Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []
    private var idleThreads = 0

    init(idleLifetime: TimeInterval) {
        self.idleLifetime = idleLifetime
    }

    /// Runs `body` on an executor thread and returns its result to the awaiting task.
    /// > Note: Cancelling the task does not interrupt `body`; libmongoc's timeouts bound it.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            execute {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `job` on an executor thread without waiting for it.
    /// The job works for the task that queued it: it runs under that task's ``QueryBudget``,
    /// `ServiceContext` (its trace) and logger, since task-locals do not cross to a thread by
    /// themselves.
    func execute(_ job: @escaping @Sendable () -> Void) {
        let budget = QueryBudget.current
        let context = ServiceContext.current
        let logger = OperationObservation.taskLogger
        condition.lock()
        jobs.append {
            QueryBudget.$current.withValue(budget) {
                ServiceContext.withValue(context) {
                    if let logger { withLogger(logger) { _ in job() } } else { job() }
                }
            }
        }
        // Idle threads that were signalled but have not woken yet still count as idle, so
        // compare with the queue: every queued job must have a thread on its way.
        let needsThread = jobs.count > idleThreads
        condition.signal()
        condition.unlock()
        if needsThread {
            Thread { [self] in work() }.start()
        }
    }

    private func work() {
        Thread.current.threadDictionary[Self.threadMarker] = true
        condition.lock()
        while true {
            while jobs.isEmpty {
                idleThreads += 1
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: idleLifetime))
                idleThreads -= 1
                if !signalled && jobs.isEmpty {
                    condition.unlock()
                    return
                }
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
