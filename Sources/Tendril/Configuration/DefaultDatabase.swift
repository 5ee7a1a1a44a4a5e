import TendrilDriver

/// The database documents use when neither their class nor the call names one.
///
/// ```swift
/// let client = try MongoClient("mongodb://127.0.0.1:27017/")
/// DefaultDatabase.use(client.database("app"))
/// ```
/// A class can override `class var database` to use another one, and most calls take a
/// `database:` argument that wins over both.
/// > Note: Thread-safe; usually set once at startup.
public enum DefaultDatabase {
    private static let selected = Locked<MongoDatabase?>(nil)

    /// Makes `database` the default (nil removes it).
    public static func use(_ database: MongoDatabase?) {
        selected.withLock { $0 = database }
    }

    /// The current default, if one was set.
    public static var current: MongoDatabase? {
        selected.withLock { $0 }
    }
}
