import Foundation
import HeapStats
import Tendril

// Three classes of 5, 7 and 20 fields, each with a 200-character bio and five tags, so the
// overhead per document is seen against BSON of realistic size (issue 16, item 3).

class FiveFields: Document {
    override class var collectionName: String { "overhead5" }
    @Field var name = ""
    @Field var bio = ""
    @Field var age = 0
    @Field var tags: [String] = []
    @Field var joined = Date(timeIntervalSince1970: 0)
}

class SevenFields: FiveFields {
    override class var collectionName: String { "overhead7" }
    @Field var city = ""
    @Field var score = 0.0
}

final class TwentyFields: SevenFields {
    override class var collectionName: String { "overhead20" }
    @Field var email = ""
    @Field var phone = ""
    @Field var country = ""
    @Field var active = false
    @Field var verified = false
    @Field var visits = 0
    @Field var posts = 0
    @Field var followers = 0
    @Field var rating = 0.0
    @Field var lastSeen = Date(timeIntervalSince1970: 0)
    @Field var referrer: ObjectID?
    @Field var language = ""
    @Field var timezone = ""
}

/// A parent listing every document of the three classes.
final class OverheadOwner: Document {
    override class var collectionName: String { "overhead_owners" }
    @ReferenceList<FiveFields> var five
    @ReferenceList<SevenFields> var seven
    @ReferenceList<TwentyFields> var twenty
}

/// What one kept document costs against its BSON, for classes of 5, 7 and 20 fields, split
/// into its parts: the BSON bytes as a document keeps them, the object alone (a new instance),
/// both (documents a query returned), and a document a parent's `.strong` cache keeps.
///
/// Each figure is the live-heap growth (glibc `mallinfo2`, tcache off, `malloc_trim(0)`) while
/// `count` of them are held, divided by `count` (less the holding array's slot for each): the
/// median of ``readingsPerRow`` readings.
struct OverheadBenchmark {
    static let columns = [
        "fields", "docs", "bson_bytes", "bson_storage_bytes", "object_bytes", "query_result_bytes",
        "strong_kept_bytes", "strong_ratio",
    ]
    static let readingsPerRow = 3
    /// One heap reading's noise with nothing retained (see ``GrowthBenchmark/readingNoise``).
    static let readingNoise = 2_000.0

    let count: Int

    struct Row {
        let fields: Int, docs: Int, bsonBytes: Double
        let bsonStorage: HeapFigure, object: HeapFigure, queryResult: HeapFigure, strongKept: HeapFigure

        var strongRatio: Double { strongKept.bytes / bsonBytes }

        var cells: [String] {
            ["\(fields)", "\(docs)", bsonBytes.formatted(1), bsonStorage.cell, object.cell, queryResult.cell,
             strongKept.cell, strongRatio.formatted(2)]
        }
    }

    func run(in database: MongoDatabase) async throws -> [Row] {
        Progress.show("seeding \(count) documents of each class")
        let ownerID = try await seed(in: database)
        var rows: [Row] = []
        for pass in 0..<2 {   // the first pass warms up (schemas, metadata, reply buffers)
            rows = [
                try await measure(FiveFields.self, fields: 5, list: \.$five, ownerID: ownerID, in: database),
                try await measure(SevenFields.self, fields: 7, list: \.$seven, ownerID: ownerID, in: database),
                try await measure(TwentyFields.self, fields: 20, list: \.$twenty, ownerID: ownerID, in: database),
            ]
            Progress.show(pass == 0 ? "measuring" : "done")
        }
        Progress.done()
        return rows
    }

    private func seed(in database: MongoDatabase) async throws -> ObjectID {
        let five = (0..<count).map { Self.filled(FiveFields(), index: $0) }
        let seven = (0..<count).map { Self.filled(SevenFields(), index: $0) }
        let twenty = (0..<count).map { Self.filled(TwentyFields(), index: $0) }
        try await FiveFields.insert(five, into: database)
        try await SevenFields.insert(seven, into: database)
        try await TwentyFields.insert(twenty, into: database)
        let owner = OverheadOwner()
        owner.five = five.compactMap(\.id)
        owner.seven = seven.compactMap(\.id)
        owner.twenty = twenty.compactMap(\.id)
        try await owner.insert(into: database)
        return try owner.id.unwrapped("owner id")
    }

    /// Sets every field the person's class declares.
    private static func filled<Person: FiveFields>(_ person: Person, index: Int) -> Person {
        let bio = String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 4).prefix(200)
        (person.name, person.bio, person.age) = ("person \(index)", String(bio), 20 + index % 60)
        person.tags = ["music", "chess", "climbing", "cooking", "travel"]
        if let person = person as? SevenFields {
            (person.city, person.score) = ("Lisbon", Double(index) / 7)
        }
        if let person = person as? TwentyFields {
            (person.email, person.phone, person.country) = ("p\(index)@example.com", "+351 21 000 \(index)", "PT")
            (person.active, person.verified, person.visits) = (index % 2 == 0, index % 3 == 0, index * 3)
            (person.posts, person.followers, person.rating) = (index % 40, index * 11, Double(index % 5))
            (person.referrer, person.language, person.timezone) = (ObjectID(), "pt", "Europe/Lisbon")
        }
        return person
    }

    private func measure<Model: Document>(
        _ type: Model.Type, fields: Int, list: KeyPath<OverheadOwner, ReferenceListHandle<Model>>,
        ownerID: ObjectID, in database: MongoDatabase
    ) async throws -> Row {
        var storage: [Double] = [], objects: [Double] = [], results: [Double] = [], kept: [Double] = []
        var bsonBytes = 0.0
        for _ in 0..<Self.readingsPerRow {
            // The BSON bytes alone, each document with storage of its own, as a loaded document keeps them.
            var documents = try await Model.objects.using(database).fetchMode(.one).all()
            bsonBytes = Double(try documents.reduce(0) { $0 + (try $1.bsonDocument.byteCount) }) / Double(count)
            storage.append(try await perDocument {
                try documents.map { try BSONDocument(bytes: $0.bsonDocument.bytes) }
            })
            documents = []
            // The object alone: new instances hold their declared defaults and no BSON.
            objects.append(try await perDocument { (0..<count).map { _ in Model() } })
            // Documents a query returned: object and BSON.
            results.append(try await perDocument { try await Model.objects.using(database).fetchMode(.one).all() })
            // Documents a parent's `.strong` cache keeps, resolved as one batch (the default fetch mode).
            let owner = try await OverheadOwner.objects.using(database).cachePolicy(.strong).get(ownerID).unwrapped("owner")
            kept.append(try await perDocument {
                let resolved = try await owner[keyPath: list].values
                guard resolved.count == count else { throw ValidationFailure("\(resolved.count) of \(count) listed documents resolved") }
                return owner
            })
        }
        let noise = Self.readingNoise / Double(count)
        return Row(fields: fields, docs: count, bsonBytes: bsonBytes,
                   bsonStorage: HeapFigure(readings: storage, floor: noise), object: HeapFigure(readings: objects, floor: noise),
                   queryResult: HeapFigure(readings: results, floor: noise), strongKept: HeapFigure(readings: kept, floor: noise))
    }

    /// The live-heap growth per document while the array `make` returns is held, less the
    /// array's own slot for each (a `BSONDocument` is two words, a reference one).
    private func perDocument<Element>(_ make: () async throws -> [Element]) async throws -> Double {
        let (grown, held) = try await heapGrowth(make)
        return Double(grown) / Double(count) - Double(MemoryLayout<Element>.stride) * Double(held.count) / Double(count)
    }

    /// The live-heap growth per document while what `make` returns is held.
    private func perDocument(_ make: () async throws -> OverheadOwner) async throws -> Double {
        Double(try await heapGrowth(make).grown) / Double(count)
    }

    private func heapGrowth<Held>(_ make: () async throws -> Held) async throws -> (grown: Int, held: Held) {
        try await Task.sleep(for: .milliseconds(20))
        let baseline = tendril_live_heap_bytes()
        let held = try await make()
        try await Task.sleep(for: .milliseconds(20))
        return (tendril_live_heap_bytes() - baseline, held)
    }
}
