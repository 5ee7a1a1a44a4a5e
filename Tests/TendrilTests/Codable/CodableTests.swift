import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Encodes with sorted keys, so the JSON compared is one string.
func encodedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func decoded<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

/// The `DocumentError` `body` throws, or nil.
func documentError(_ body: () throws -> Void) -> DocumentError? {
    do {
        try body()
        return nil
    } catch let error as DocumentError {
        return error
    } catch {
        return nil
    }
}

final class Ranked: Document {
    @Field(validate: .range(0...150)) var age: Int = 0
    @Field(.required) var handle: String?
    @Field var address = Address()
}

@Suite("Codable: documents to and from JSON")
struct CodableTests {
    @Test("every field type round-trips, with ids as hex and dates as ISO 8601")
    func everyFieldTypeRoundTrips() throws {
        let id = try ObjectID("65f1a2b3c4d5e6f708192a3b")
        let all = AllTypes()
        all.id = try ObjectID("0123456789abcdef01234567")
        all.string = "héllo"
        all.int = 1 << 40
        all.int32 = -7
        all.int64 = 9_000_000_000
        all.double = 2.5
        all.bool = true
        all.date = Date(timeIntervalSince1970: 1_700_000_000.123)
        all.objectID = id
        all.binary = BSONBinary(data: [1, 2, 3])
        all.data = Data([4, 5])
        all.decimal = try Decimal128("1.10")
        all.role = .admin
        all.optionalString = "set"
        all.optionalDate = Date(timeIntervalSince1970: 0)
        all.strings = ["a", "b"]
        all.nestedInts = [[1], [2, 3]]
        all.dictionary = ["x": 1, "y": 2]
        all.freeForm = .document(["k": .int32(1)])
        all.freeDocument = ["n": .string("v")]

        let json = try encodedJSON(all)
        #expect(json == """
            {"binary":"AQID","bool":true,"data":"BAU=","date":"2023-11-14T22:13:20.123Z","decimal":"1.10",\
            "dictionary":{"x":1,"y":2},"double":2.5,"freeDocument":{"n":"v"},"freeForm":{"k":1},\
            "id":"0123456789abcdef01234567","int":1099511627776,"int32":-7,"int64":9000000000,\
            "nestedInts":[[1],[2,3]],"objectID":"65f1a2b3c4d5e6f708192a3b","optionalDate":"1970-01-01T00:00:00.000Z",\
            "optionalInt":null,"optionalRole":null,"optionalString":"set","role":"admin","string":"héllo","strings":["a","b"]}
            """)

        let back = try decoded(AllTypes.self, json)
        #expect(back.id == all.id)
        #expect(try back.bsonDocument == all.bsonDocument)
        #expect(back.isNew, "a decoded document is new until saved")
        #expect(try encodedJSON(back) == json)
    }

    @Test("embedded documents, alone, optional and in arrays, use property names")
    func embeddedDocuments() throws {
        let company = Company()
        company.name = "ACME"
        company.headquarters.city = "Oslo"
        company.headquarters.location.latitude = 59.9
        let office = Address()
        office.city = "Bergen"
        office.zip = "5003"
        company.offices = [office]
        let json = try encodedJSON(company)
        #expect(json == """
            {"billing":null,"headquarters":{"city":"Oslo","location":{"latitude":59.9,"longitude":0},"zip":null},"name":"ACME",\
            "offices":[{"city":"Bergen","location":{"latitude":0,"longitude":0},"zip":"5003"}]}
            """)
        let back = try decoded(Company.self, json)
        #expect(back.headquarters.city == "Oslo" && back.headquarters.location.latitude == 59.9)
        #expect(back.offices.map(\.zip) == ["5003"])
        #expect(try back.bsonDocument == company.bsonDocument)

        let address = try decoded(Address.self, #"{"city":"Lima"}"#)
        #expect(address.city == "Lima" && address.zip == nil)
        #expect(try encodedJSON(address) == #"{"city":"Lima","location":{"latitude":0,"longitude":0},"zip":null}"#)
    }

    @Test("a custom stored key does not change the JSON key: JSON uses property names")
    func propertyNamesNotStoredKeys() throws {
        let person = Person()
        person.email = "ada@example.com"
        #expect(try encodedJSON(person).contains(#""email":"ada@example.com""#))
        let back = try decoded(Person.self, #"{"email":"grace@example.com","mail":"ignored"}"#)
        #expect(back.email == "grace@example.com")
        #expect(try back.bsonDocument["mail"] == .string("grace@example.com"))
    }

    @Test("fields absent from the JSON keep their defaults and are not pending changes")
    func absentFieldsAreDefaults() throws {
        let person = try decoded(Person.self, #"{"name":"Ada"}"#)
        #expect(person.name == "Ada" && person.age == 0 && person.tags == [] && person.id == nil)
        #expect(person.readFields { Set($0.current.keys) } == [0], "only name was decoded")
    }

    @Test("bad ids, dates, types and enum values are typed errors naming the JSON path")
    func typeErrors() throws {
        let badID = documentError { _ = try decoded(Person.self, #"{"id":"not-an-id"}"#) }
        #expect(badID?.kind == .typeMismatch(expected: "objectId", found: #"string "not-an-id""#))
        #expect(badID?.field == "id" && badID?.collection == "Person")

        let badObjectID = documentError { _ = try decoded(AllTypes.self, #"{"objectID":"65f1a2b3c4d5e6f70819zzzz"}"#) }
        #expect(badObjectID?.kind == .typeMismatch(expected: "objectId", found: #"string "65f1a2b3c4d5e6f70819zzzz""#))
        #expect(badObjectID?.field == "objectID")

        let badDate = documentError { _ = try decoded(AllTypes.self, #"{"date":"yesterday"}"#) }
        #expect(badDate?.kind == .typeMismatch(expected: "date", found: #"string "yesterday""#))

        let badType = documentError { _ = try decoded(Person.self, #"{"age":"forty"}"#) }
        #expect(badType?.kind == .typeMismatch(expected: "long", found: #"string "forty""#))
        #expect(badType?.field == "age")

        let badElement = documentError { _ = try decoded(Person.self, #"{"tags":["a",2]}"#) }
        #expect(badElement?.kind == .typeMismatch(expected: "string", found: "number 2"))
        #expect(badElement?.field == "tags[1]")

        let badRole = documentError { _ = try decoded(AllTypes.self, #"{"role":"owner"}"#) }
        #expect(badRole?.kind == .typeMismatch(expected: "string naming a Role", found: #"string "owner""#))

        let badNested = documentError { _ = try decoded(Company.self, #"{"offices":[{"location":{"latitude":"north"}}]}"#) }
        #expect(badNested?.field == "offices[0].location.latitude")

        let nullForPlain = documentError { _ = try decoded(Person.self, #"{"name":null}"#) }
        #expect(nullForPlain?.kind == .typeMismatch(expected: "string", found: "null"))

        let notAnObject = documentError { _ = try decoded(Person.self, #"[1]"#) }
        #expect(notAnObject?.kind == .typeMismatch(expected: "object (Person)", found: "array"))
    }

    @Test("decoding applies the field's rules as saving does")
    func validationErrors() throws {
        let outOfRange = documentError { _ = try decoded(Ranked.self, #"{"handle":"a","age":200}"#) }
        #expect(outOfRange?.kind == .validationFailed(rule: "range 0...150"))
        #expect(outOfRange?.field == "age")

        let missing = documentError { _ = try decoded(Ranked.self, #"{"age":20}"#) }
        #expect(missing?.kind == .missingRequiredField && missing?.field == "handle")
        let null = documentError { _ = try decoded(Ranked.self, #"{"handle":null}"#) }
        #expect(null?.kind == .missingRequiredField)

        let badKey = documentError { _ = try decoded(Person.self, #"{"scores":{"a.b":1}}"#) }
        #expect(badKey?.kind == .invalidFieldKey && badKey?.field == #"scores["a.b"]"#)

        let ranked = try decoded(Ranked.self, #"{"handle":"h","age":150}"#)
        #expect(ranked.age == 150 && ranked.handle == "h")
    }

    @Test("numbers convert to the field's type when exact")
    func numbers() throws {
        let all = try decoded(AllTypes.self, #"{"double":3,"int32":5,"optionalInt":7}"#)
        #expect(all.double == 3 && all.int32 == 5 && all.optionalInt == 7)
        let tooBig = documentError { _ = try decoded(AllTypes.self, #"{"int32":5000000000}"#) }
        #expect(tooBig?.kind == .typeMismatch(expected: "int", found: "number 5000000000"))
        let fraction = documentError { _ = try decoded(AllTypes.self, #"{"int":1.5}"#) }
        #expect(fraction?.kind == .typeMismatch(expected: "long", found: "number 1.5"))
    }

    @Test("dates are read with or without milliseconds and with an offset")
    func dates() throws {
        let plain = try decoded(AllTypes.self, #"{"date":"2024-01-02T03:04:05Z"}"#)
        #expect(plain.date == Date(timeIntervalSince1970: 1_704_164_645))
        let offset = try decoded(AllTypes.self, #"{"date":"2024-01-02T05:04:05.250+02:00"}"#)
        #expect(offset.date == Date(timeIntervalSince1970: 1_704_164_645.25))
    }

    @Test("a partially loaded document leaves out the fields it did not load")
    func partialDocumentsOmitUnloadedFields() throws {
        let person = try Person.hydrate(["_id": .objectID(ObjectID()), "name": "Ada", "age": .int64(36)],
                                        loadedSlots: [true, false, false, false, false])
        let json = try encodedJSON(person)
        #expect(json.contains(#""name":"Ada""#) && !json.contains("age") && !json.contains("tags"))
    }
}
