import TendrilDriver

/// What a lazy reference access does when the parent's cache cannot serve it: query for it, or
/// refuse.
///
/// Set at the same levels as the cache policy; the narrowest wins:
/// ```swift
/// FetchMode.default = .raise                                        // the whole program
/// override class var referenceFetchMode: FetchMode { .raise }       // a document class
/// for try await meeting in Meeting.objects.fetchMode(.raise) { ... } // a query (passed on)
/// meeting.referenceCache.fetchMode = .raise                         // one parent
/// try await meeting.$division.fetching(.one).value                  // one access
/// ```
/// Documents a query loads under a mode pass it on to the documents their references resolve
/// to, as they do the query's cache policy.
/// > Note: Declared fetching is never refused: a query's `prefetch` runs under every mode, and
/// what it (or an earlier access) put in the cache is served as usual.
public enum FetchMode: Sendable, Equatable, CustomStringConvertible {
    /// Queries for what the access needs and for the same field of the parent's peers (the
    /// documents that arrived with it: one streamed batch of a query, one `$in` resolution),
    /// with one `$in`: the plain lazy loop over a query sends one query per reference field and
    /// batch, not one per document. Each peer gets its documents through its own cache, under
    /// its own policy; peers whose policy keeps nothing (`.none`, `.weak`) are not fetched for.
    /// The default.
    ///
    /// ```swift
    /// for try await meeting in Meeting.objects {          // 100 meetings: one batch
    ///     _ = try await meeting.$division.value            // 1 query for the batch's divisions
    ///     _ = try await meeting.$room.value?.$event.value  // 1 for the rooms, 1 for their events
    /// }
    /// ```
    /// > Note: A query under `.peers` whose class has reference fields creates each batch's
    /// documents when the batch arrives (about a batch of documents alive at once, as with
    /// `prefetch`), and each of them is registered weakly with its batch's group: a weak
    /// reference and a bit per resolved field. A class without reference fields pays nothing.
    case peers
    /// Queries for what the access needs: one query for a reference, one `$in` for the missing
    /// members of a list or dictionary; nothing for the parent's peers.
    case one
    /// Queries for nothing: an access the cache cannot serve throws
    /// ``DocumentError/Kind/lazyLoadRefused(referencingClass:property:)`` naming the class, the
    /// field, the id and the `prefetch` that would serve it. A list or dictionary is refused when
    /// any member would need a query. Lets a test prove that a code path sends exactly the
    /// queries it declares.
    case raise

    /// The mode of parents whose class, query and cache set none; ``peers`` unless changed.
    /// > Note: Set it at start-up; parents whose cache already exists keep their mode.
    public static var `default`: FetchMode {
        get { programDefault.withLock { $0 } }
        set { programDefault.withLock { $0 = newValue } }
    }
    private static let programDefault = Locked(FetchMode.peers)

    /// `peers`, `one` or `raise`.
    public var description: String {
        switch self {
        case .peers: "peers"
        case .one: "one"
        case .raise: "raise"
        }
    }
}
