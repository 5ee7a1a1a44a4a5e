import TendrilDriver

/// Where a document's references resolve and under which policy, when a query or a parent set
/// them: shared by every document a query loads, and passed on to the documents they resolve.
final class ReferenceSettings: Sendable {
    /// The database referenced documents are fetched from (nil: each target class's own).
    let database: MongoDatabase?
    /// The cache policy (nil: each class's ``Document/referenceCachePolicy``).
    let policy: CachePolicy?

    init(database: MongoDatabase?, policy: CachePolicy?) {
        self.database = database
        self.policy = policy
    }

    /// nil when neither is set, so documents of plain queries carry nothing.
    static func make(database: MongoDatabase?, policy: CachePolicy?) -> ReferenceSettings? {
        database == nil && policy == nil ? nil : ReferenceSettings(database: database, policy: policy)
    }
}
