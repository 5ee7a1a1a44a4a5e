import Foundation
import Testing
@testable import TendrilDriver

/// Conformance against MongoDB's BSON corpus (`../shared/bson-corpus/`).
@Suite("BSON corpus")
struct BSONCorpusTests {
    @Test("the corpus is present and complete")
    func corpusIsPresent() {
        let files = BSONCorpusFile.all
        #expect(files.count >= 30, "BSON corpus not found at \(BSONCorpusFile.directory.path)")
        #expect(files.reduce(0) { $0 + $1.valid.count } == 728)
        #expect(files.reduce(0) { $0 + $1.decodeErrors.count } == 75)
        #expect(files.reduce(0) { $0 + $1.parseErrors.count } == 180)
    }

    @Test("valid cases decode and re-encode to their canonical bytes", arguments: BSONCorpusFile.all)
    func validCasesRoundTrip(file: BSONCorpusFile) throws {
        for test in file.valid {
            let document = try BSONDocument(bytes: test.canonicalBSON)
            #expect(reencoded(document).bytes == test.canonicalBSON, "\(file.name): \(test.description)")
            if let degenerate = test.degenerateBSON {
                let decoded = try BSONDocument(bytes: degenerate)
                #expect(reencoded(decoded).bytes == test.canonicalBSON, "\(file.name): \(test.description) (degenerate)")
            }
        }
    }

    /// Cases where libbson 1.23 itself departs from the corpus, each explained in
    /// docs/server-compatibility.md ("BSON conformance"). A case listed here must still fail:
    /// if libbson starts meeting it, the test says so and the entry goes.
    static let knownLibBSONLimitations: Set<String> = [
        "code.json|Embedded nulls|parse canonical",
        "code_w_scope.json|Unicode and embedded null in code string, empty scope|parse canonical",
        "datetime.json|Y10K|relaxed",
        "double.json|1.2345678921232E+18|canonical",
        "double.json|-1.2345678921232E+18|canonical",
        "top.json|Bad $date (number, not string or hash)|parse error",
    ]

    private func expectConformance(_ conforms: Bool, _ file: String, _ test: String, _ check: String, _ detail: @autoclosure () -> String) {
        if Self.knownLibBSONLimitations.contains("\(file)|\(test)|\(check)") {
            #expect(!conforms, "libbson now meets \(file): \(test) (\(check)): remove it from knownLibBSONLimitations")
        } else {
            #expect(conforms, "\(file): \(test) (\(check))\n\(detail())")
        }
    }

    @Test("valid cases match their canonical and relaxed extended JSON", arguments: BSONCorpusFile.all)
    func validCasesMatchExtendedJSON(file: BSONCorpusFile) throws {
        for test in file.valid {
            let document = try BSONDocument(bytes: test.canonicalBSON)
            expectConformance(
                sameJSON(document.canonicalExtendedJSON, test.canonicalExtendedJSON), file.name, test.description,
                "canonical", " ours:   \(document.canonicalExtendedJSON)\n corpus: \(test.canonicalExtendedJSON)")
            if let relaxed = test.relaxedExtendedJSON {
                expectConformance(
                    sameJSON(document.relaxedExtendedJSON, relaxed), file.name, test.description,
                    "relaxed", " ours:   \(document.relaxedExtendedJSON)\n corpus: \(relaxed)")
            }
            if !test.lossy {
                let parsed = try BSONDocument(extendedJSON: test.canonicalExtendedJSON)
                expectConformance(
                    parsed.bytes == test.canonicalBSON, file.name, test.description,
                    "parse canonical", " parsed: \(parsed.bytes)\n corpus: \(test.canonicalBSON)")
            }
        }
    }

    @Test("decode errors are rejected with a BSONError", arguments: BSONCorpusFile.all.filter { !$0.decodeErrors.isEmpty })
    func decodeErrorsAreRejected(file: BSONCorpusFile) {
        for test in file.decodeErrors {
            #expect(throws: BSONError.self, "\(file.name): \(test.description)") {
                try BSONDocument(bytes: test.bson)
            }
        }
    }

    @Test("parse errors are rejected with a BSONError", arguments: BSONCorpusFile.all.filter { !$0.parseErrors.isEmpty })
    func parseErrorsAreRejected(file: BSONCorpusFile) {
        for test in file.parseErrors {
            let rejected: Bool
            do {
                if file.bsonType == "0x13" {
                    _ = try Decimal128(test.string)
                } else {
                    _ = try BSONDocument(extendedJSON: test.string)
                }
                rejected = false
            } catch is BSONError {
                rejected = true
            } catch {
                Issue.record("\(file.name): \(test.description): not a BSONError: \(error)")
                rejected = true
            }
            expectConformance(rejected, file.name, test.description, "parse error", " accepted: \(test.string)")
        }
    }

    /// Rebuilds a document value by value, so the test exercises decoding and encoding, not a byte copy.
    private func reencoded(_ document: BSONDocument) -> BSONDocument {
        var copy = BSONDocument()
        for (key, value) in document {
            do { try copy.append(key, value) } catch { Issue.record("re-encoding \(key): \(error)") }
        }
        return copy
    }
}
