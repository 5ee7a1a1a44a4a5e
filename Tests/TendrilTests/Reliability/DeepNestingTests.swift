import Foundation
import Testing
@testable import Tendril
@testable import TendrilDriver

/// A node of a chain of embedded documents: each holds the next.
final class ChainNode: EmbeddedDocument {
    @Field var label: String = ""
    @Field var child: ChainNode?
}

final class Chain: Document {
    override class var collectionName: String { "chains" }
    @Field var name: String = ""
    @Field var root: ChainNode?
    @Field var roots: [ChainNode] = []
}

/// Holds a reference to a chain, to load one through a reference.
final class ChainHolder: Document {
    override class var collectionName: String { "chainHolders" }
    @Reference<Chain> var chain
}

/// Nesting past MongoDB's 100 levels: every write path refuses it with a typed error naming the
/// field's path and sends nothing; loading such a document (another client stored it) is a typed
/// error naming the collection, the id and the field, never a value read as missing
/// (issue 13, item 1; docs/reliability.md).
@Suite("Deep nesting: refused on every write, reported on every load")
struct DeepNestingTests {
    /// A chain of `depth` nodes: the root is one level below the document holding it.
    static func chain(_ depth: Int) -> ChainNode {
        let root = ChainNode()
        var node = root
        node.label = "1"
        for level in 1..<depth {
            let next = ChainNode()
            next.label = String(level + 1)
            node.child = next
            node = next
        }
        return root
    }

    /// The labels along a loaded chain.
    static func depth(of node: ChainNode?) -> Int {
        var depth = 0
        var current = node
        while let node = current {
            depth += 1
            current = node.child
        }
        return depth
    }

    /// The error is `.nestingTooDeep` and names a path through the chain from `field`.
    static func expectNestingError(_ error: (any Error)?, field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = error as? BSONError else {
            Issue.record("expected a BSONError, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(error.kind == .nestingTooDeep, sourceLocation: sourceLocation)
        let path = error.key?.split(separator: ".").map(String.init) ?? []
        #expect(path.first == field && path.dropFirst().allSatisfy { $0 == "child" },
                "the path \(error.key ?? "nil") runs through the chain from \(field)", sourceLocation: sourceLocation)
        #expect(error.message.contains(error.key ?? "-"), "the message names the path", sourceLocation: sourceLocation)
    }

    static let writes = ["insert", "update", "delete", "findAndModify"]

    /// Checks that no write command was sent and that the collection holds `count` documents.
    static func expectNothingWritten(_ recorder: CommandRecorder, _ database: MongoDatabase, stored count: Int,
                                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(writes.map { recorder.count(of: $0) }.reduce(0, +) == 0, sourceLocation: sourceLocation)
        let stored = try await database.collection("chains").countDocuments()
        #expect(stored == count, sourceLocation: sourceLocation)
    }

    /// Inserts a chain of `depth` nodes, then forgets the commands sent so far.
    static func insertChain(_ depth: Int, into database: MongoDatabase, _ recorder: CommandRecorder) async throws -> Chain {
        let chain = Chain()
        chain.root = Self.chain(depth)
        try await chain.insert(into: database)
        recorder.reset()
        return chain
    }

    @Test("100 levels are stored and read back whole", arguments: [1, 50, 99, 100])
    func withinTheLimit(depth: Int) async throws {
        try await TestServer.withDatabase { database, _ in
            let chain = Chain()
            chain.root = Self.chain(depth)
            try await chain.insert(into: database)
            let loaded = try #require(try await Chain.objects.using(database).first())
            #expect(Self.depth(of: loaded.root) == depth)

            // Saving a loaded document sets the whole chain again at the same depth.
            loaded.root = Self.chain(depth)
            loaded.root?.label = "again"
            try await loaded.save(in: database)
            let reloaded = try #require(try await Chain.objects.using(database).first())
            #expect(Self.depth(of: reloaded.root) == depth && reloaded.root?.label == "again")
        }
    }

    @Test("insert, save of a new document and upsert refuse it, sending nothing", arguments: [101, 200])
    func newDocumentWrites(depth: Int) async throws {
        try await TestServer.withDatabase { database, recorder in
            let chain = Chain()
            chain.name = "deep"
            chain.root = Self.chain(depth)
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await chain.insert(into: database) }, field: "root")
            #expect(chain.isNew && chain.id == nil)
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await chain.save(in: database) }, field: "root")
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await chain.upsert(in: database) }, field: "root")
            Self.expectNestingError(#expect(throws: BSONError.self) { try chain.bsonDocument }, field: "root")
            // In an array of embedded documents too.
            let inArray = Chain()
            inArray.roots = [ChainNode(), Self.chain(depth)]
            let arrayError = await #expect(throws: BSONError.self) { try await inArray.insert(into: database) }
            let arrayPath = arrayError?.key ?? ""
            #expect(arrayError?.kind == .nestingTooDeep && (arrayPath == "roots.1" || arrayPath.hasPrefix("roots.1.child")),
                    "\(String(describing: arrayError?.key))")
            try await Self.expectNothingWritten(recorder, database, stored: 0)
        }
    }

    @Test("bulk insert and bulk save refuse the batch, sending nothing", arguments: [101, 200])
    func bulkWrites(depth: Int) async throws {
        try await TestServer.withDatabase { database, recorder in
            let shallow = try await Self.insertChain(2, into: database, recorder)

            let deep = Chain()
            deep.root = Self.chain(depth)
            let fine = Chain()
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await Chain.insert([fine, deep], into: database) },
                                    field: "root")
            #expect(fine.isNew && deep.isNew)

            shallow.root = Self.chain(depth)
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await Chain.save([shallow, fine], in: database) },
                                    field: "root")
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await Chain.save([fine, deep], in: database) },
                                    field: "root")
            try await Self.expectNothingWritten(recorder, database, stored: 1)
        }
    }

    @Test("saving a loaded document refuses a change that nests too deep, and keeps it pending", arguments: [101, 200])
    func savedChanges(depth: Int) async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await Self.insertChain(3, into: database, recorder)
            let loaded = try #require(try await Chain.objects.using(database).first())

            // Replaced whole, and grown from inside (a change deep in the chain is set by path).
            loaded.root = Self.chain(depth)
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await loaded.save(in: database) }, field: "root")
            #expect(Self.depth(of: loaded.root) == depth, "the change is kept for a retry")

            let grown = try #require(try await Chain.objects.using(database).first())
            grown.root?.child?.child?.child = Self.chain(depth - 3)
            Self.expectNestingError(await #expect(throws: BSONError.self) { try await grown.save(in: database) }, field: "root")
            try await Self.expectNothingWritten(recorder, database, stored: 1)

            let stored = try #require(try await Chain.objects.using(database).first())
            #expect(Self.depth(of: stored.root) == 3)
        }
    }

    @Test("a query update that sets a value nesting too deep is refused, sending nothing", arguments: [101, 200])
    func queryUpdate(depth: Int) async throws {
        try await TestServer.withDatabase { database, recorder in
            _ = try await Self.insertChain(1, into: database, recorder)
            let error = await #expect(throws: BSONError.self) {
                try await Chain.objects.using(database).update(.set(\.$root, Self.chain(depth)))
            }
            Self.expectNestingError(error, field: "root")
            try await Self.expectNothingWritten(recorder, database, stored: 1)
            // At the limit, the same update is sent and applied.
            let updated = try await Chain.objects.using(database).update(.set(\.$root, Self.chain(100)))
            #expect(updated == 1)
            let stored = try #require(try await Chain.objects.using(database).first())
            #expect(Self.depth(of: stored.root) == 100)
        }
    }

    /// The error a stored chain 101 levels deep gives: `.invalidBSON` naming the collection,
    /// the id and the path of the first document past the limit.
    static func expectLoadError(_ error: (any Error)?, id: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = error as? DocumentError else {
            Issue.record("expected a DocumentError, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        guard case .invalidBSON(let cause) = error.kind else {
            Issue.record("expected .invalidBSON, got \(error.kind)", sourceLocation: sourceLocation)
            return
        }
        #expect(cause.kind == .nestingTooDeep, sourceLocation: sourceLocation)
        #expect(error.collection == "chains", sourceLocation: sourceLocation)
        #expect(error.documentID == (try? ObjectID(id)).map(BSONValue.objectID), sourceLocation: sourceLocation)
        #expect(error.field == (["root"] + Array(repeating: "child", count: 100)).joined(separator: "."), sourceLocation: sourceLocation)
    }

    @Test("a stored document nested too deep is a typed error naming collection, id and field, on every load path")
    func storedTooDeep() async throws {
        let server = try MockServer("too-deep")
        let client = try MongoClient(server.uri("serverSelectionTimeoutMS=2000"))
        let database = client.database("faults")
        var names: [Int] = []
        // Streaming: the valid chain first, then the error at the deep one.
        let streamed = await #expect(throws: DocumentError.self) {
            for try await chain in Chain.objects.using(database) { names.append(Self.depth(of: chain.root)) }
        }
        #expect(names == [3], "a present value never loads as a missing one")
        // One at a time, by id, through a values query and through a reference.
        let got = await #expect(throws: DocumentError.self) { _ = try await Chain.objects.using(database).get(ObjectID()) }
        let values = await #expect(throws: DocumentError.self) {
            for try await _ in Chain.objects.using(database).scalar(\.$name) {}
        }
        let holder = try ChainHolder.hydrate(["_id": .objectID(ObjectID()), "chain": .objectID(ObjectID())],
                                             settings: ReferenceSettings(database: database, policy: nil))
        let resolved = await #expect(throws: DocumentError.self) { _ = try await holder.$chain.value }
        let report = try server.finish()
        let ids = try #require(report["ids"] as? [String])
        Self.expectLoadError(streamed, id: ids[1])
        Self.expectLoadError(got, id: ids[1])
        Self.expectLoadError(values, id: ids[1])
        Self.expectLoadError(resolved, id: ids[1])
    }
}
