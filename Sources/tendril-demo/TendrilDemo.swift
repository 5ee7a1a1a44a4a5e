// tendril-demo: connects to $MONGODB_URI, writes and reads a few documents, and prints what
// it did and which commands it sent. `bash scripts/run-demo.sh` starts a local test server
// first when MONGODB_URI is not set. (It becomes the growth benchmark once references land.)
import Foundation
import Tendril

@main
struct TendrilDemo {
    static func main() async {
        guard let uri = ProcessInfo.processInfo.environment["MONGODB_URI"], !uri.isEmpty else {
            print("MONGODB_URI is not set. Run `bash scripts/run-demo.sh` (starts a local test server),")
            print("or export MONGODB_URI=mongodb://HOST:PORT/ for a running mongod.")
            exit(2)
        }
        do {
            try await run(uri: uri)
        } catch {
            print("tendril-demo failed: \(error)")
            exit(1)
        }
    }

    static func run(uri: String) async throws {
        let client = try MongoClient(uri, appName: "tendril-demo")
        let recorder = CommandRecorder()
        client.addCommandObserver(recorder)
        let database = client.database("tendril_demo")
        let people = database.collection("people")
        try await people.drop()
        print("Connected to \(uri)")

        let ada = try await people.insertOne(["name": "Ada Lovelace", "born": 1815, "tags": ["math", "poetry"]])
        print("insertOne        -> _id \(ada.insertedID)")
        let many = try await people.insertMany((1...1_000).map { ["name": .string("Person \($0)"), "n": .int32(Int32($0))] })
        print("insertMany       -> \(many.insertedCount) documents in \(recorder.count(of: "insert") - 1) insert command(s)")
        try await people.createIndex(IndexModel(keys: ["n": 1]))
        let updated = try await people.updateMany(["n": ["$lte": 10]], ["$set": ["early": true]])
        print("updateMany       -> matched \(updated.matchedCount), modified \(updated.modifiedCount)")

        let found = try await people.findOne(["name": "Ada Lovelace"])
        print("findOne          -> \(found?.relaxedExtendedJSON ?? "nothing")")

        recorder.reset()
        var streamed = 0
        for try await _ in try await people.find(["n": ["$exists": true]], options: FindOptions(batchSize: 100)) {
            streamed += 1
        }
        print("find (batch 100) -> streamed \(streamed) documents: \(recorder.count(of: "find")) find + \(recorder.count(of: "getMore")) getMore")

        let count = try await people.countDocuments(["early": true])
        print("countDocuments   -> \(count) early people")
        try await database.drop()
        print("Dropped database tendril_demo. Done.")
    }
}
