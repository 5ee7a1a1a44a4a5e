import CTendrilBSON
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
            if step == TENDRIL_STEP_END { return (elements, false) }
            if step == TENDRIL_STEP_MALFORMED { return (elements, true) }
            let key = Array(UnsafeBufferPointer(start: element.key, count: Int(element.key_length)))
            var children: [Element]?
            var nestedMalformed = false
            if element.type == 0x03 || element.type == 0x04 {
                let nested = tendrilWalk(element.value, length: Int(element.value_size))
                children = nested.elements
                nestedMalformed = nested.malformed
            } else if element.type == 0x0F {
                // Code with scope: the walk sized it; its scope is a document of its own.
                let codeLength = Int(UnsafeRawPointer(element.value + 4).loadUnaligned(as: Int32.self).littleEndian)
                nestedMalformed = tendrilWalk(element.value + 8 + codeLength, length: Int(element.value_size) - 8 - codeLength).malformed
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

    /// libbson's verdict on the structure alone (its validator walks every element at every
    /// depth, code-with-scope scopes included; UTF-8 is left out, which this Debian build's
    /// validator does not check reliably).
    static func libbsonRefuses(_ data: UnsafePointer<UInt8>, length: Int) -> Bool {
        guard let view = tendril_bson_new_view(data, UInt32(length)) else { return true }
        defer { tendril_bson_free_struct(view) }
        var offset = 0
        return !bson_validate(view, BSON_VALIDATE_NONE, &offset)
    }

    /// Tendril's validator's verdict (what every received document goes through).
    static func tendrilValidation(_ data: UnsafePointer<UInt8>, length: Int) -> tendril_bson_validity_t {
        var offset: UInt32 = 0
        return tendril_bson_validate(data, UInt32(length), 0, 100, &offset)
    }

    @Test("finds the elements libbson finds in every valid corpus document", arguments: BSONCorpusFile.all)
    func validDocuments(file: BSONCorpusFile) {
        for test in file.valid {
            for bytes in [test.canonicalBSON, test.degenerateBSON].compactMap({ $0 }) {
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    let ours = Self.tendrilWalk(base, length: buffer.count)
                    #expect(!ours.malformed, "\(file.name): \(test.description)")
                    #expect(Self.tendrilValidation(base, length: buffer.count) == TENDRIL_BSON_VALID, "\(file.name): \(test.description)")
                    #expect(ours.elements == Self.libbsonWalk(base, length: buffer.count), "\(file.name): \(test.description)")
                    #expect(!ours.elements.isEmpty || buffer.count == 5, "\(file.name): \(test.description) walked nothing")
                }
            }
        }
    }

    @Test("a key lookup decodes what libbson's iterator decodes, for every key of every valid corpus document",
          arguments: BSONCorpusFile.all)
    func keyLookups(file: BSONCorpusFile) throws {
        for test in file.valid {
            let document = try BSONDocument(bytes: test.canonicalBSON)
            var seen: Set<String> = []
            // The sequence decodes through libbson's iterator; the subscript through the walk.
            for (key, value) in document where seen.insert(key).inserted {
                let found = try #require(document[key], "\(file.name): \(test.description): \(key) not found")
                // Compared as bytes: NaN is not equal to itself.
                let same = (try BSONDocument().appending("v", found)).bytes == (try BSONDocument().appending("v", value)).bytes
                #expect(same, "\(file.name): \(test.description): \(key)")
            }
        }
    }

    @Test("gives libbson's verdict on every corpus document libbson cannot decode",
          arguments: BSONCorpusFile.all.filter { !$0.decodeErrors.isEmpty })
    func malformedDocuments(file: BSONCorpusFile) {
        for test in file.decodeErrors {
            test.bson.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                let ours = Self.tendrilWalk(base, length: buffer.count)
                let refused = Self.libbsonRefuses(base, length: buffer.count)
                // Same verdict on the structure, and the same elements up to where both stop.
                #expect(ours.malformed == refused, "\(file.name): \(test.description): ours \(ours.malformed), libbson's \(refused)")
                let theirs = Self.libbsonWalk(base, length: buffer.count)
                let common = min(ours.elements.count, theirs.count)
                #expect(Array(ours.elements.prefix(common)) == Array(theirs.prefix(common)), "\(file.name): \(test.description)")
                let validation = Self.tendrilValidation(base, length: buffer.count)
                #expect(refused ? validation == TENDRIL_BSON_CORRUPT : validation != TENDRIL_BSON_CORRUPT,
                        "\(file.name): \(test.description): validation \(validation.rawValue)")
                // A walk judges structure; what it passes over (bad UTF-8, NUL inside a string)
                // is refused by the validation every document gets when it is made.
                if !ours.malformed {
                    #expect(throws: BSONError.self, "\(file.name): \(test.description)") { try BSONDocument(bytes: test.bson) }
                }
            }
        }
    }

    /// libbson 1.23's validator skips a nested document whose header it cannot read instead of
    /// refusing it (a sub-document or scope missing its terminating NUL, a length that runs past
    /// it): the walk refuses those. So the walk may be stricter, never more lenient.
    @Test("refuses every one-byte corruption of a valid corpus document that libbson refuses",
          arguments: BSONCorpusFile.all)
    func corruptedDocuments(file: BSONCorpusFile) {
        var tried = 0, refusedByLibBSON = 0
        for test in file.valid {
            var bytes = test.canonicalBSON
            for index in bytes.indices {
                let original = bytes[index]
                for replacement: UInt8 in [original ^ 0xFF, original &+ 1, original &- 1, 0x00, 0x7F] where replacement != original {
                    bytes[index] = replacement
                    tried += 1
                    bytes.withUnsafeBufferPointer { buffer in
                        guard let base = buffer.baseAddress else { return }
                        guard Self.libbsonRefuses(base, length: buffer.count) else { return }
                        refusedByLibBSON += 1
                        let walk = Self.tendrilWalk(base, length: buffer.count)
                        let validation = Self.tendrilValidation(base, length: buffer.count)
                        let context = "\(file.name): \(test.description), byte \(index) set to \(replacement)"
                        // libbson also refuses invalid UTF-8 in keys, which the walk leaves to validation.
                        #expect(walk.malformed || validation == TENDRIL_BSON_INVALID_UTF8, "\(context): the walk accepts it")
                        #expect(validation != TENDRIL_BSON_VALID, "\(context): validation accepts it")
                    }
                }
                bytes[index] = original
            }
        }
        #expect(tried > 0 || file.valid.isEmpty)
        #expect(refusedByLibBSON > 0 || file.valid.isEmpty, "no corruption was refused: the comparison tested nothing")
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
            Self.withExactCopy(of: bytes) { exact, count in
                #expect(Self.tendrilWalk(exact, length: count).malformed, "\(bytes)")
                #expect(Self.tendrilValidation(exact, length: count) == TENDRIL_BSON_CORRUPT, "\(bytes)")
            }
        }
    }

    /// Lends `bytes` in an allocation of exactly their size (one byte for none), so
    /// AddressSanitizer (`scripts/sanitize.sh address`) catches a read past the end.
    static func withExactCopy<R>(of bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
        let exact = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { exact.deallocate() }
        exact.initialize(from: bytes, count: bytes.count)
        return try body(exact, bytes.count)
    }

    /// A document of one int32 element under `key`, then one more (`"z": 7`), lent as
    /// ``withExactCopy(of:_:)`` lends it.
    static func withTwoElements<R>(key: [UInt8], _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
        var bytes: [UInt8] = [0, 0, 0, 0, 0x10] + key + [0, 1, 0, 0, 0, 0x10, 0x7A, 0, 7, 0, 0, 0, 0]
        bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init))
        return try withExactCopy(of: bytes, body)
    }

    @Test("measures keys of every length up to 20 and tells ASCII keys by a high bit at any position")
    func keyLengthsAndASCII() {
        for length in 0...20 {
            for highByte in [nil] + Array(0..<length) {
                var key = (0..<length).map { UInt8(0x61 + $0 % 26) }
                if let highByte { key[highByte] = 0xC3 }
                Self.withTwoElements(key: key) { data, count in
                    var offset: UInt32 = 4
                    var element = tendril_bson_element_t()
                    #expect(tendril_bson_next_element(data, UInt32(count), &offset, &element) == TENDRIL_STEP_ELEMENT)
                    #expect(Int(element.key_length) == length && element.key_is_ascii == (highByte == nil), "\(key)")
                    // The walk went on from the right place: the second element is "z".
                    #expect(tendril_bson_next_element(data, UInt32(count), &offset, &element) == TENDRIL_STEP_ELEMENT)
                    #expect(element.key_length == 1 && element.key.pointee == 0x7A)
                    #expect(tendril_bson_next_element(data, UInt32(count), &offset, &element) == TENDRIL_STEP_END)
                }
            }
        }
    }

    @Test("a key that runs into the document's terminator is malformed, at every length up to 20")
    func unterminatedKeys() {
        for length in 1...20 {
            let bytes: [UInt8] = [UInt8(4 + 1 + length + 1), 0, 0, 0, 0x10] + (0..<length).map { UInt8(0x61 + $0 % 26) } + [0]
            Self.withExactCopy(of: bytes) { exact, count in
                var offset: UInt32 = 4
                var element = tendril_bson_element_t()
                #expect(tendril_bson_next_element(exact, UInt32(count), &offset, &element) == TENDRIL_STEP_MALFORMED, "length \(length)")
            }
        }
    }

    @Test("an array's elements are counted and found in one walk, on the stack up to 16 and beyond it")
    func arrayElementPositions() throws {
        for count in [0, 1, 15, 16, 17, 40] {
            var document = BSONDocument()
            try document.append("tags", .array((0..<count).map { .string("tag\($0)") }))
            try document.append("z", .int32(7))
            let (walk, _) = document.withUnsafeBytes { Self.tendrilWalk($0.baseAddress!, length: $0.count) }
            // The walk's children are placed from the array's first byte, after "tags"'s type byte and key.
            let arrayStart = 4 + 1 + 5
            let expected = try #require(walk.first?.children).map { (arrayStart + $0.offset, $0.key.count) }
            var counted: Int?
            var visited: [(Int, Int)] = []
            let complete = document.withBytes { bytes in
                bytes.forEachArrayElement(atElementOffset: 4, keyLength: 4, counted: { counted = $0 }) { offset, keyLength in
                    visited.append((offset, keyLength))
                    return true
                }
            }
            #expect(complete && counted == count, "\(count) elements")
            #expect(visited.map(\.0) == expected.map(\.0) && visited.map(\.1) == expected.map(\.1), "\(count) elements")
            // A body that stops ends the walk, and says so.
            var seen = 0
            let stopped = document.withBytes { bytes in
                bytes.forEachArrayElement(atElementOffset: 4, keyLength: 4, counted: { _ in }) { _, _ in seen += 1; return false }
            }
            #expect(count == 0 ? stopped : !stopped && seen == 1)
        }
    }

    @Test("an array whose element runs past the array's end is refused, whatever its position")
    func malformedArrayElements() {
        for corrupted in [0, 1, 16, 17] {
            // {"a": [int32 x 18]} with element `corrupted` typed as a string whose length runs past the end.
            var array: [UInt8] = []
            for index in 0..<18 {
                let key = Array(String(index).utf8)
                array += [index == corrupted ? 0x02 : 0x10] + key + [0] + (index == corrupted ? [200, 0, 0, 0] : [1, 0, 0, 0])
            }
            array = withUnsafeBytes(of: UInt32(array.count + 5).littleEndian, Array.init) + array + [0]
            var bytes: [UInt8] = [0, 0, 0, 0, 0x04, 0x61, 0] + array + [0]
            bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init))
            Self.withExactCopy(of: bytes) { exact, _ in
                var counted: Int?
                let complete = BSONBytes(UnsafeRawPointer(exact)).forEachArrayElement(atElementOffset: 4, keyLength: 1,
                                                                                      counted: { counted = $0 }) { _, _ in true }
                #expect(!complete && counted == nil, "element \(corrupted)")
            }
        }
    }

    @Test("a stored key matches a field's key only when every byte is equal, at every length up to 20")
    func keyMatching() throws {
        for length in 1...20 {
            let fieldKey = (0..<length).map { UInt8(0x61 + $0 % 26) }
            let table = BSONFieldTable(keys: [String(decoding: fieldKey, as: UTF8.self)], checksID: false,
                                       accepts: { _, _ in true }, acceptsElement: { _ in nil })
            for differing in [nil] + Array(0..<length) {
                var storedKey = fieldKey
                if let differing { storedKey[differing] = 0x41 }
                let document = try Self.withTwoElements(key: storedKey) { data, count in
                    try BSONDocument(bytes: Array(UnsafeBufferPointer(start: data, count: count)))
                }
                var packed = PackedFieldOffsets()
                let matched = table.match(.document(document), packed: &packed)
                let lane = (packed.lanes.0 & 0xFFFF)
                #expect(matched?.outcome != nil)
                // The first element starts at offset 4; a field left unmatched keeps 0xFFFF.
                #expect(lane == (differing == nil ? 4 : 0xFFFF), "key \(storedKey) against \(fieldKey)")
            }
        }
    }
}
