import Foundation
import Testing
@testable import TendrilDriver

@Suite("CRUD against the test server")
struct CRUDTests {
    /// Types nx-27017 stores faithfully (it keeps documents as JSON).
    static let portableValues: BSONDocument = [
        "double": 3.25, "negativeZero": .double(-0.0), "string": "héllo\0wörld",
        "document": ["inner": ["deeper": 1]], "array": [1, "two", ["three": 3], [4]],
        "binary": .binary(BSONBinary(subtype: .generic, data: [0, 1, 2, 255])),
        "objectID": .objectID(ObjectID()), "bool": true,
        "datetime": .datetime(BSONDateTime(millisecondsSinceEpoch: 1_700_000_000_123)),
        "null": .null, "int32": .int32(-7), "int64": .int64(Int64.max),
    ]

    /// Types MongoDB stores and nx-27017 refuses or alters (docs/server-compatibility.md).
    static let mongoDBOnlyValues: BSONDocument = [
        "uuid": .binary(BSONBinary(subtype: .uuid, data: Array(repeating: 7, count: 16))),
        "userBinary": .binary(BSONBinary(subtype: .userDefined, data: [1, 2, 3])),
        "regex": .regex(BSONRegularExpression(pattern: "^a.*z$", options: "im")),
        "timestamp": .timestamp(BSONTimestamp(timestamp: 1_700_000_000, increment: 3)),
        "decimal128": .decimal128((try? Decimal128("1234.5678E-2")) ?? Decimal128(high: 0, low: 0)),
        "minKey": .minKey, "maxKey": .maxKey, "code": .javascript("function () { return 1; }"),
    ]

    /// Stores each value in a document of its own, so one refused type does not hide the others.
    private func roundTrip(_ values: BSONDocument, in collection: MongoCollection) async {
        for (key, value) in values {
            let document: BSONDocument = ["_id": .string(key), "value": value]
            do {
                try await collection.insertOne(document)
                let fetched = try await collection.findOne(["_id": .string(key)])
                #expect(fetched == document, "\(key): \(fetched?.canonicalExtendedJSON ?? "nil") != \(document.canonicalExtendedJSON)")
            } catch {
                Issue.record("\(key): \(error)")
            }
        }
    }

    @Test("every BSON type an application meets round-trips through the server")
    func everyTypeRoundTrips() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("types")
            await roundTrip(Self.portableValues, in: collection)
            await withKnownIssue("nx-27017 refuses or alters these types") {
                await roundTrip(Self.mongoDBOnlyValues, in: collection)
            } when: { TestServer.isNX }
        }
    }

    @Test("insert, find, update, replace and delete behave as MongoDB documents")
    func crud() async throws {
        try await TestServer.withDatabase { database, _ in
            let people = database.collection("people")
            let inserted = try await people.insertOne(["name": "Ada", "age": 36])
            #expect(inserted.insertedID.objectIDValue != nil, "an _id is generated when missing")
            let many = try await people.insertMany([["_id": 2, "name": "Alan", "age": 41], ["name": "Grace", "age": 85]])
            #expect(many.insertedCount == 2)
            #expect(many.insertedIDs.first == 2)
            #expect(try await people.countDocuments() == 3)
            #expect(try await people.countDocuments(["age": ["$gt": 40]]) == 2)

            let ada = try #require(try await people.findOne(["name": "Ada"]))
            #expect(ada["_id"] == inserted.insertedID)
            #expect(ada.keys.first == "_id")

            let sorted = try await people.find([:], options: FindOptions(projection: ["name": 1, "_id": 0], sort: ["age": -1])).toArray()
            #expect(sorted == [["name": "Grace"], ["name": "Alan"], ["name": "Ada"]])
            let page = try await people.find([:], options: FindOptions(sort: ["age": 1], skip: 1, limit: 1)).toArray()
            #expect(page.map { $0["name"] } == ["Alan"])

            let updated = try await people.updateOne(["name": "Ada"], ["$inc": ["age": 1]])
            #expect(updated.matchedCount == 1 && updated.modifiedCount == 1)
            #expect(try await people.findOne(["name": "Ada"])?["age"]?.intValue == 37)
            let updatedMany = try await people.updateMany(["age": ["$gt": 40]], ["$set": ["senior": true]])
            #expect(updatedMany.modifiedCount == 2)
            let upserted = try await people.updateOne(["name": "Barbara"], ["$set": ["age": 50]], upsert: true)
            #expect(upserted.upsertedCount == 1 && upserted.upsertedID != nil)
            let replaced = try await people.replaceOne(["_id": 2], ["name": "Alan Turing"])
            #expect(replaced.modifiedCount == 1)
            let alan = try #require(try await people.findOne(["_id": 2]))
            #expect(alan["name"] == "Alan Turing" && alan["_id"] == 2 && alan.count == 2, "\(alan)")

            #expect(try await people.deleteOne(["name": "Ada"]).deletedCount == 1)
            #expect(try await people.deleteMany([:]).deletedCount == 3)
            #expect(try await people.countDocuments() == 0)
            #expect(try await people.findOne(["name": "Ada"]) == nil)
        }
    }

    @Test("bulk writes mix operations in one round trip")
    func bulkWrite() async throws {
        try await TestServer.withDatabase { database, recorder in
            let items = database.collection("items")
            recorder.reset()
            let result = try await items.bulkWrite([
                .insertOne(["_id": 1, "n": 1]), .insertOne(["_id": 2, "n": 2]), .insertOne(["_id": 3, "n": 3]),
                .updateOne(filter: ["_id": 1], update: ["$set": ["n": 10]]),
                .updateMany(filter: ["n": ["$gte": 2]], update: ["$inc": ["n": 100]]),
                .replaceOne(filter: ["n": 9], replacement: ["_id": 9, "n": 9], upsert: true),
                .deleteOne(filter: ["_id": 3]),
            ])
            #expect(result.insertedCount == 3)
            #expect(result.insertedIDs == [0: 1, 1: 2, 2: 3])
            #expect(result.modifiedCount == 1 + 3)
            #expect(result.upsertedCount == 1)
            #expect(result.upsertedIDs[5] == 9)
            #expect(result.deletedCount == 1)
            // Consecutive operations of one kind share a command: insert, update, delete.
            #expect(recorder.commandNames == ["insert", "update", "delete"])
            #expect(try await items.find([:], options: FindOptions(sort: ["_id": 1])).toArray().map { $0["n"] } == [110, 102, 9])
        }
    }

    @Test("indexes are created, listed and dropped; unique indexes reject duplicates")
    func indexes() async throws {
        try await TestServer.withDatabase { database, _ in
            let users = database.collection("users")
            let name = try await users.createIndex(IndexModel(keys: ["email": 1], unique: true))
            #expect(name == "email_1")
            try await users.createIndexes([IndexModel(keys: ["age": -1, "name": 1]), IndexModel(keys: ["seen": 1], expireAfterSeconds: 60)])
            let listed = try await users.listIndexes()
            #expect(listed.count == 4, "_id plus three: \(listed)")
            let uniqueIndexes = listed.filter { $0["unique"]?.boolValue == true }
            #expect(uniqueIndexes.map { $0["key"] } == [.document(["email": 1])])

            try await users.insertOne(["email": "ada@example.com"])
            let error = try await #require(throws: MongoError.self) { try await users.insertOne(["email": "ada@example.com"]) }
            #expect(error.isDuplicateKey)
            #expect(error.kind == .write)
            #expect(try await users.countDocuments() == 1)

            let droppable = try #require(listed.first { $0["key"] == .document(["seen": 1]) }?["name"]?.stringValue)
            try await users.dropIndex(droppable)
            #expect(try await users.listIndexes().count == 3)
        }
    }

    @Test("a duplicate _id is a write error that says duplicate key")
    func duplicateID() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("dups")
            try await collection.insertOne(["_id": "x"])
            await #expect {
                try await collection.insertOne(["_id": "x"])
            } throws: { error in
                (error as? MongoError)?.isDuplicateKey == true
            }
            let batch = try await #require(throws: MongoError.self) {
                try await collection.insertMany([["_id": "y"], ["_id": "x"], ["_id": "z"]], ordered: false)
            }
            #expect(batch.isDuplicateKey)
            #expect(try await collection.countDocuments() == 3, "unordered: the other documents are inserted")
        }
    }

    @Test("aggregate, runCommand, listCollectionNames and drop")
    func commands() async throws {
        try await TestServer.withDatabase { database, _ in
            let orders = database.collection("orders")
            try await orders.insertMany([["c": "a", "v": 1], ["c": "a", "v": 2], ["c": "b", "v": 5]])
            let totals = try await orders.aggregate([
                ["$group": ["_id": "$c", "total": ["$sum": "$v"]]], ["$sort": ["_id": 1]],
            ]).toArray()
            #expect(totals == [["_id": "a", "total": 3], ["_id": "b", "total": 5]])
            let ping = try await database.runCommand(["ping": 1])
            #expect(ping["ok"]?.doubleValue == 1 || ping["ok"]?.intValue == 1)
            #expect(try await database.listCollectionNames().contains("orders"))
            try await orders.drop()
            try await orders.drop()
            #expect(try await !database.listCollectionNames().contains("orders"))
        }
    }

    @Test("documents a literal could not encode are refused before anything is sent")
    func unencodableDocuments() async throws {
        try await TestServer.withDatabase { database, recorder in
            recorder.reset()
            #expect(throws: BSONError.self) { try database.collection("c").insertOne(["bad\0key": 1]) }
            #expect(throws: BSONError.self) { try database.collection("c").find(["a": ["bad\0key": 1]]) }
            #expect(recorder.startedEvents.isEmpty)
        }
    }
}
