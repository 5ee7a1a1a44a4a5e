/// Resolves a parent's references through a ``ReferencePool``: ``CachePolicy/pooled(_:)``.
///
/// The parent keeps nothing itself; the pool keeps what its budget allows, gives one instance
/// per id, and fetches each id once at a time for all its parents.
/// > Note: It holds its pool weakly (documents reach the pool through it, and the pool keeps
/// documents). Once the program drops the pool, parents that used it resolve as under
/// ``CachePolicy/none``.
public struct PooledCachePolicy: ReferenceCachePolicy {
    private let reference: PoolReference

    init(_ reference: PoolReference) {
        self.reference = reference
    }

    /// The pool, while the program holds it.
    public var pool: ReferencePool? { reference.pool }

    public var description: String { pool.map { "pooled(\($0.keeping))" } ?? "pooled(released)" }

    /// Empty: the pool keeps, not the parent.
    public func makeStorage() -> any ReferenceCacheStorage { NoCachePolicy.NoStorage() }

    /// True: a peer fetch feeds the pool.
    public var keepsFetchedDocuments: Bool { true }
}

/// A pool, held weakly: what every `.pooled` value and every document resolved through the
/// pool share (one allocation per pool).
final class PoolReference: @unchecked Sendable {
    // Set once, in the pool's initialiser, before the reference is shared.
    weak var pool: ReferencePool?
}

extension CachePolicy {
    /// Resolves through `pool`: every parent using it shares one budget, gets one instance per
    /// id while anyone holds it, and fetches each id once at a time.
    ///
    /// ```swift
    /// let pool = ReferencePool(maxBytes: 1 << 20)
    /// for try await person in Person.objects.cachePolicy(.pooled(pool)) {
    ///     for try await friend in person.$friends { ... }   // one Ada for every parent
    /// }
    /// ```
    /// > Note: The pool is held weakly: keep it as long as its parents resolve.
    public static func pooled(_ pool: ReferencePool) -> CachePolicy { pool.policy }
}
