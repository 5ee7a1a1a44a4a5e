import Foundation
import Tendril

/// Test models. Collection names are the defaults (the class names) unless a test says.
final class Person: Document {
    @Field var name: String = ""
    @Field var age: Int = 0
    @Field var tags: [String] = []
    @Field("mail") var email: String?
    @Field var scores: [String: Double] = [:]

    /// Computed from two fields: not a field itself.
    var summary: String { "\(name) (\(age))" }
}

/// A generic document class: its key paths are new objects on every access.
final class Box<T: FieldValue>: Document {
    // nx-27017 accepts only identifier-like collection names (MongoDB takes "Box<Int>").
    override class var collectionName: String { "boxes" }
    @Field var first: Int = 0
    @Field var second: String = ""
    @Field var payload: T?
}

enum Role: String, FieldValue {
    case admin, member
}

final class AllTypes: Document {
    @Field var string: String = ""
    @Field var int: Int = 0
    @Field var int32: Int32 = 0
    @Field var int64: Int64 = 0
    @Field var double: Double = 0
    @Field var bool: Bool = false
    @Field var date = Date(timeIntervalSince1970: 0)
    @Field var objectID = ObjectID()
    @Field var binary = BSONBinary(data: [])
    @Field var data = Data()
    @Field var decimal: Decimal128? = nil
    @Field var role: Role = .member
    @Field var optionalString: String?
    @Field var optionalInt: Int?
    @Field var optionalDate: Date?
    @Field var optionalRole: Role?
    @Field var strings: [String] = []
    @Field var nestedInts: [[Int]] = []
    @Field var dictionary: [String: Int] = [:]
    @Field var freeForm: BSONValue = .null
    @Field var freeDocument: BSONDocument = [:]
}

final class Account: Document {
    override class var collectionName: String { "accounts" }
    @Field(.required) var email: String?
    @Field var balance: Int = 0
}

final class GeoPoint: EmbeddedDocument {
    @Field var latitude: Double = 0
    @Field var longitude: Double = 0
}

final class Address: EmbeddedDocument {
    @Field var city: String = ""
    @Field var zip: String?
    @Field var location = GeoPoint()
}

final class Company: Document {
    @Field var name: String = ""
    @Field var headquarters = Address()
    @Field var offices: [Address] = []
    @Field var billing: Address?
}

/// Used only by the event tests: hooks are per class, and tests run in parallel.
final class Audited: Document {
    @Field var name: String = ""
    @Field var version: Int = 0
}

/// Used only by the test of saves with nothing to send: hooks are per class.
final class Quiet: Document {
    @Field var name: String = ""
}

final class Member: Document {
    @Field(validate: .range(0...150)) var age: Int = 0
    @Field(validate: .matches("^[^@ ]+@[^@ ]+$")) var email: String?
    @Field(validate: .oneOf(["red", "green"])) var color: String = "red"
    @Field(validate: .custom("even") { $0 % 2 == 0 }) var seats: Int = 2
    @Field(.required, validate: .length(2...20)) var handle: String?

    override class var indexes: [IndexModel] {
        [IndexModel(keys: ["handle": 1], unique: true),
         IndexModel(keys: ["age": -1, "color": 1]),
         IndexModel(keys: ["email": 1], sparse: true)]
    }
}

final class BadInner: EmbeddedDocument {
    @Field("a.b") var dotted: Int = 0
}

final class HoldsBadInner: Document {
    @Field var inner = BadInner()
}

final class TwoFieldsOneKey: Document {
    @Field("k") var first: Int = 0
    @Field("k") var second: Int = 0
}

/// An embedded class that contains itself.
final class TreeNode: EmbeddedDocument {
    @Field var label: String = ""
    @Field var children: [TreeNode] = []
}

final class Tree: Document {
    @Field var root = TreeNode()
}
