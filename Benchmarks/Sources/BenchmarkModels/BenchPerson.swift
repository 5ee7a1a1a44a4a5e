import Foundation
import Tendril

/// The 10-field model the hydration benchmark loads.
public final class BenchPerson: Document {
    @Field public var name: String = ""
    @Field public var email: String?
    @Field public var age: Int = 0
    @Field public var score: Double = 0
    @Field public var active: Bool = false
    @Field public var joined = Date(timeIntervalSince1970: 0)
    @Field public var referrer: ObjectID?
    @Field public var tags: [String] = []
    @Field public var city: String = ""
    @Field public var visits: Int32 = 0
}


extension BenchPerson {
    /// `count` stored people, each with an `_id`, as a fetched document looks.
    public static func makeDocuments(count: Int) throws -> [BSONDocument] {
        let cities = ["London", "Paris", "Lisbon", "Oslo", "Rome"]
        return try (0..<count).map { index in
            var document = BSONDocument()
            try document.append("_id", .objectID(ObjectID()))
            try document.append("name", .string("Person \(index)"))
            try document.append("email", .string("person\(index)@example.com"))
            try document.append("age", .int64(Int64(18 + index % 60)))
            try document.append("score", .double(Double(index % 1000) / 10))
            try document.append("active", .bool(index.isMultiple(of: 2)))
            try document.append("joined", .datetime(BSONDateTime(millisecondsSinceEpoch: 1_600_000_000_000 + Int64(index))))
            try document.append("referrer", .objectID(ObjectID()))
            try document.append("tags", .array([.string("t\(index % 7)"), "member", "beta"]))
            try document.append("city", .string(cities[index % cities.count]))
            try document.append("visits", .int32(Int32(index % 500)))
            // Fetched documents hold their bytes inline (not a growable bson_t): the same here.
            return try BSONDocument(bytes: document.bytes)
        }
    }
}
