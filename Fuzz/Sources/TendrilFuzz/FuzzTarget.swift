import Foundation
import Tendril

/// A model with a field of most kinds, so hydration of untrusted bytes exercises every decoder:
/// scalars, optionals, arrays, a dictionary, an embedded document, free-form BSON, a reference.
final class FuzzPerson: Document {
    @Field var name: String = ""
    @Field var age: Int = 0
    @Field var small: Int32 = 0
    @Field var score: Double = 0
    @Field var active: Bool = false
    @Field var joined = Date(timeIntervalSince1970: 0)
    @Field var tags: [String] = []
    @Field var counts: [String: Int] = [:]
    @Field var address: FuzzAddress?
    @Field var extra: BSONDocument?
    @Field var anything: BSONValue?
    @Field var blob: Data?
    @Field(.required) var email: String?
    @Reference<FuzzPerson> var friend
    @ReferenceList<FuzzPerson> var friends
}

final class FuzzAddress: EmbeddedDocument {
    @Field var city: String = ""
    @Field var lines: [String] = []
    @Field var inner: FuzzAddress?
}

/// libFuzzer's entry point: the bytes are untrusted BSON from "the server". Whatever they are,
/// Tendril must answer with a value or a typed error: no crash, no leak, no hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let document = try? BSONDocument(bytes: bytes) else { return 0 }
    // Everything a caller can do with a validated document.
    _ = document.canonicalExtendedJSON
    _ = document.relaxedExtendedJSON
    for (key, value) in document { _ = (key, value.typeName) }
    _ = try? BSONDocument(bytes: document.bytes)
    guard let person = try? FuzzPerson.decoding(document) else { return 0 }
    _ = (person.name, person.age, person.small, person.score, person.active, person.joined)
    _ = (person.tags, person.counts, person.extra, person.anything, person.blob, person.email)
    var address = person.address
    var depth = 0
    while let current = address, depth < 200 {
        _ = (current.city, current.lines)
        address = current.inner
        depth += 1
    }
    _ = (person.friend, person.friends)
    return 0
}
