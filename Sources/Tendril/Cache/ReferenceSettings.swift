import TendrilDriver

/// Where a document's references resolve, under which policy and fetch mode, when a query or a
/// parent set them, and which documents arrived with it: shared by every document of one batch
/// (one allocation per batch), and passed on to the documents they resolve.
final class ReferenceSettings: Sendable {
    /// The database referenced documents are fetched from (nil: each target class's own).
    let database: MongoDatabase?
    /// The cache policy (nil: each class's ``Document/referenceCachePolicy``).
    let policy: CachePolicy?
    /// The fetch mode (nil: each class's ``Document/referenceFetchMode``).
    let fetchMode: FetchMode?
    /// The documents that arrived with this one, resolved together under ``FetchMode/peers``
    /// (nil: none, or not under `.peers`).
    let peers: PeerGroup?

    init(database: MongoDatabase?, policy: CachePolicy?, fetchMode: FetchMode? = nil, peers: PeerGroup? = nil) {
        self.database = database
        self.policy = policy
        self.fetchMode = fetchMode
        self.peers = peers
    }

    /// nil when none is set, so documents of plain queries carry nothing.
    static func make(database: MongoDatabase?, policy: CachePolicy?, fetchMode: FetchMode?) -> ReferenceSettings? {
        database == nil && policy == nil && fetchMode == nil
            ? nil : ReferenceSettings(database: database, policy: policy, fetchMode: fetchMode)
    }

    /// Whether documents of `type` loaded under `settings` resolve as peers: their mode is
    /// ``FetchMode/peers`` and their class has reference fields (a class without any pays
    /// nothing for peers: no group, no batch created at once).
    static func resolvesAsPeers(_ type: Document.Type, under settings: ReferenceSettings?) -> Bool {
        (settings?.fetchMode ?? type.referenceFetchMode) == .peers && Schema.of(type).hasReferenceFields
    }

    /// The settings for one batch of documents of `type` arriving together under `settings`:
    /// the same, with a new ``PeerGroup`` when they resolve as peers; else `settings` without
    /// a group (a group belongs to one batch, never to the next). A batch known to hold one
    /// document (`alone`: one id asked for, or a query's batch of one) gets no group: it has no
    /// peers, and a group would cost its document about 460 bytes (the group, and a weak
    /// reference's side table).
    static func forBatch(of type: Document.Type, inheriting settings: ReferenceSettings?,
                         alone: Bool = false) -> ReferenceSettings? {
        guard !alone, resolvesAsPeers(type, under: settings) else {
            return settings?.peers == nil ? settings : make(database: settings?.database, policy: settings?.policy,
                                                            fetchMode: settings?.fetchMode)
        }
        return ReferenceSettings(database: settings?.database, policy: settings?.policy, fetchMode: settings?.fetchMode,
                                 peers: PeerGroup())
    }
}
