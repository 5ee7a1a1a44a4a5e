import Foundation
import Hummingbird
import Tendril

/// A person and the people they call friends.
public final class Person: Document {
    override public class var collectionName: String { "people" }
    @Field(validate: .length(1...100)) public var name: String = "-"
    @Field(validate: .range(0...150)) public var age: Int = 0
    @Field public var email: String?
    /// Removed from every list when a friend is deleted.
    @ReferenceList<Person>(onDelete: .pull) public var friends
}

/// A meeting: who organises it and who attends.
public final class Meeting: Document {
    override public class var collectionName: String { "meetings" }
    @Field(validate: .length(1...200)) public var title: String = "-"
    @Field public var startsAt = Date(timeIntervalSince1970: 0)
    @Reference<Person>(onDelete: .nullify) public var organizer
    @ReferenceList<Person>(onDelete: .pull) public var attendees
}

// Documents are Codable (ids as hex strings, dates ISO 8601, references as ids), so a route can
// return one as it is.
extension Person: ResponseEncodable {}
extension Meeting: ResponseEncodable {}
extension EmbeddingReferences: @retroactive ResponseGenerator {}
extension EmbeddingReferences: @retroactive ResponseEncodable {}

/// A list response: `{"items": [...]}`.
public struct Page<Item: Encodable>: ResponseEncodable {
    public let items: [Item]
}
