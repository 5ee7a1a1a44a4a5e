import TendrilDriver

/// Where a document's references resolve, under which policy and fetch mode, when a query or a
/// parent set them: shared by every document a query loads, and passed on to the documents they
/// resolve.
final class ReferenceSettings: Sendable {
    /// The database referenced documents are fetched from (nil: each target class's own).
    let database: MongoDatabase?
    /// The cache policy (nil: each class's ``Document/referenceCachePolicy``).
    let policy: CachePolicy?
    /// The fetch mode (nil: each class's ``Document/referenceFetchMode``).
    let fetchMode: FetchMode?

    init(database: MongoDatabase?, policy: CachePolicy?, fetchMode: FetchMode? = nil) {
        self.database = database
        self.policy = policy
        self.fetchMode = fetchMode
    }

    /// nil when none is set, so documents of plain queries carry nothing.
    static func make(database: MongoDatabase?, policy: CachePolicy?, fetchMode: FetchMode?) -> ReferenceSettings? {
        database == nil && policy == nil && fetchMode == nil
            ? nil : ReferenceSettings(database: database, policy: policy, fetchMode: fetchMode)
    }
}
