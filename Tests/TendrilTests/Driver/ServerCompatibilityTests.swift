import Testing
@testable import TendrilDriver

/// MongoDB behaviours the local test server (nx-27017) does not reproduce. Each asserts what
/// MongoDB does; against nx the failure is a known issue (docs/server-compatibility.md), and if
/// nx ever starts behaving like MongoDB, `withKnownIssue` fails so the entry can go.
@Suite("MongoDB behaviours nx-27017 differs on")
struct ServerCompatibilityTests {
    @Test("countDocuments matches an ObjectId _id")
    func countByObjectID() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("count")
            let id = ObjectID()
            try await collection.insertOne(["_id": .objectID(id)])
            let found = try await collection.findOne(["_id": .objectID(id)])
            #expect(found != nil)   // find matches it on both
            let counted = try await collection.countDocuments(["_id": .objectID(id)])
            withKnownIssue("nx-27017's count (an aggregate $match) does not match ObjectIds") {
                #expect(counted == 1)
            } when: { TestServer.isNX }
        }
    }

    @Test("sorting by a numeric _id orders numbers, not their text")
    func numericIDSort() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("sort")
            try await collection.insertMany([0, 1, 2, 10, 100].map { ["_id": .int32($0)] })
            let ids = try await collection.find([:], options: FindOptions(sort: ["_id": 1])).toArray().map { $0["_id"] }
            withKnownIssue("nx-27017 sorts _id as text") {
                #expect(ids == [0, 1, 2, 10, 100])
            } when: { TestServer.isNX }
        }
    }

    @Test("a replaced document keeps _id as its first field")
    func replaceKeepsIDFirst() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("replace")
            try await collection.insertOne(["_id": 1, "name": "a"])
            try await collection.replaceOne(["_id": 1], ["name": "b"])
            let replaced = try await collection.findOne(["_id": 1])
            withKnownIssue("nx-27017 appends _id after the replacement's fields") {
                #expect(replaced == ["_id": 1, "name": "b"])
            } when: { TestServer.isNX }
        }
    }

    @Test("a replace upsert takes its _id from the filter's equality")
    func replaceUpsertTakesFilterID() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("upsert")
            let result = try await collection.replaceOne(["_id": 9], ["n": 9], upsert: true)
            withKnownIssue("nx-27017 generates a new ObjectId instead") {
                #expect(result.upsertedID == 9)
            } when: { TestServer.isNX }
        }
    }

    @Test("an int64 keeps its type even when its value would fit in 32 bits")
    func smallInt64KeepsItsType() async throws {
        try await TestServer.withDatabase { database, _ in
            let collection = database.collection("numbers")
            try await collection.insertOne(["_id": 1, "small": .int64(37)])
            let stored = try await collection.findOne(["_id": 1])
            withKnownIssue("nx-27017 returns small int64 values as int32") {
                #expect(stored?["small"] == .int64(37))
            } when: { TestServer.isNX }
        }
    }
}
