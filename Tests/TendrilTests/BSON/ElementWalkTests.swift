import CTendrilMongoC
import Testing
@testable import TendrilDriver

/// The element walk that loading a document uses (`tendril_bson_next_element`, a plain walk
/// over the bytes instead of libbson's iterator) must see exactly the elements libbson's
/// iterator sees: every BSON type's size, at every depth, for every document of MongoDB's
/// corpus, valid or not.
@Suite("BSON element walk")
struct ElementWalkTests {
    /// One element as a walk reports it: where it starts (relative to the document's first
    /// byte), its type and key, and the elements inside it when it is a document or an array.
    struct Element: Equatable, CustomStringConvertible {
        var offset: Int
        var type: UInt8
        var key: [UInt8]
        var children: [Element]?
        var description: String { "\(offset):\(type):\(String(decoding: key, as: UTF8.self))\(children.map { "\($0)" } ?? "")" }
    }

    /// The elements Tendril's walk finds, and whether it stopped at malformed bytes.
    static func tendrilWalk(_ data: UnsafePointer<UInt8>, length: Int) -> (elements: [Element], malformed: Bool) {
        guard tendril_bson_header_fits(data, UInt32(length)) else { return ([], true) }
        var elements: [Element] = []
        var offset: UInt32 = 4
        var element = tendril_bson_element_t()
        while true {
            let step = tendril_bson_next_element(data, UInt32(length), &offset, &element)
            if step == 0 { return (elements, false) }
            if step < 0 { return (elements, true) }
            let key = Array(UnsafeBufferPointer(start: element.key, count: Int(element.key_length)))
            var children: [Element]?
            var nestedMalformed = false
            if element.type == 0x03 || element.type == 0x04 {
                let nested = tendrilWalk(element.value, length: Int(element.value_size))
                children = nested.elements
                nestedMalformed = nested.malformed
            }
            elements.append(Element(offset: Int(element.offset), type: element.type, key: key, children: children))
            if nestedMalformed { return (elements, true) }
        }
    }

    /// The elements libbson's iterator finds (it stops silently at malformed bytes).
    static func libbsonWalk(_ data: UnsafePointer<UInt8>, length: Int) -> [Element] {
        let iter = tendril_iter_new()
        defer { tendril_iter_free(iter) }
        guard bson_iter_init_from_data(iter, data, length) else { return [] }
        return libbsonElements(iter, base: data)
    }

    private static func libbsonElements(_ iter: OpaquePointer?, base: UnsafePointer<UInt8>) -> [Element] {
        var elements: [Element] = []
        while bson_iter_next(iter) {
            guard let keyPointer = bson_iter_key(iter) else { break }
            let keyLength = Int(bson_iter_key_len(iter))
            let key = UnsafeRawPointer(keyPointer).assumingMemoryBound(to: UInt8.self)
            let type = UInt8(truncatingIfNeeded: bson_iter_type(iter).rawValue)
            var children: [Element]?
            if type == 0x03 || type == 0x04 {
                let child = tendril_iter_new()
                defer { tendril_iter_free(child) }
                guard bson_iter_recurse(iter, child) else { break }
                // Offsets are relative to the nested document, as Tendril's walk reports them.
                var length: UInt32 = 0
                var nested: UnsafePointer<UInt8>?
                if type == 0x03 { bson_iter_document(iter, &length, &nested) } else { bson_iter_array(iter, &length, &nested) }
                guard let nested else { break }
                children = libbsonElements(child, base: nested)
            }
            elements.append(Element(offset: key - base - 1, type: type,
                                    key: Array(UnsafeBufferPointer(start: key, count: keyLength)), children: children))
        }
        return elements
    }

    @Test("finds the elements libbson finds in every valid corpus document", arguments: BSONCorpusFile.all)
    func validDocuments(file: BSONCorpusFile) {
        for test in file.valid {
            for bytes in [test.canonicalBSON, test.degenerateBSON].compactMap({ $0 }) {
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    let ours = Self.tendrilWalk(base, length: buffer.count)
                    #expect(!ours.malformed, "\(file.name): \(test.description)")
                    #expect(ours.elements == Self.libbsonWalk(base, length: buffer.count), "\(file.name): \(test.description)")
                    #expect(!ours.elements.isEmpty || buffer.count == 5, "\(file.name): \(test.description) walked nothing")
                }
            }
        }
    }

    @Test("walks every corpus document libbson cannot decode as libbson does",
          arguments: BSONCorpusFile.all.filter { !$0.decodeErrors.isEmpty })
    func malformedDocuments(file: BSONCorpusFile) {
        for test in file.decodeErrors {
            test.bson.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                let ours = Self.tendrilWalk(base, length: buffer.count)
                let theirs = Self.libbsonWalk(base, length: buffer.count)
                if ours.malformed {
                    // libbson may still list the element whose length runs into the outer
                    // terminator, refusing only what follows; this walk refuses that element.
                    #expect(theirs.starts(with: ours.elements) && theirs.count <= ours.elements.count + 1,
                            "\(file.name): \(test.description): ours \(ours.elements), libbson's \(theirs)")
                } else {
                    #expect(ours.elements == theirs, "\(file.name): \(test.description)")
                }
                // A walk judges structure; what it passes over (bad UTF-8, NUL inside a string)
                // is refused by the validation every document gets when it is made.
                if !ours.malformed {
                    #expect(throws: BSONError.self, "\(file.name): \(test.description)") { try BSONDocument(bytes: test.bson) }
                }
            }
        }
    }

    @Test("a truncated or inconsistent header is malformed, never read past")
    func badHeaders() {
        let cases: [[UInt8]] = [
            [],
            [5, 0, 0, 0],                                      // shorter than a document
            [6, 0, 0, 0, 0],                                   // length says 6, 5 bytes
            [5, 0, 0, 0, 1],                                   // no terminating NUL
            [11, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0],          // int32 cut short
            [12, 0, 0, 0, 0x02, 0x61, 0, 9, 0, 0, 0, 0],       // string length past the end
            [8, 0, 0, 0, 0x10, 0x61, 0x62, 0],                 // key without its NUL
            [8, 0, 0, 0, 0x20, 0x61, 0, 0],                    // unknown type
            [13, 0, 0, 0, 0x03, 0x61, 0, 9, 0, 0, 0, 0, 0],    // embedded document past the end
        ]
        for bytes in cases {
            let padded = bytes + [0]   // a readable byte past the end, never to be read
            padded.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                #expect(Self.tendrilWalk(base, length: bytes.count).malformed, "\(bytes)")
            }
        }
    }
}
