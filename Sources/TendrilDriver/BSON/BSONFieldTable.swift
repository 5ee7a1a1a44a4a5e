internal import CTendrilBSON

/// A document class's fields prepared for ``BSONDocument/matchFields(_:offsets:needsCheck:)``:
/// their keys and, per field, which BSON type bytes are valid as is and which need a closer
/// look. Built once per class.
///
/// `@unchecked Sendable`: immutable after init; the buffers it owns are only read.
package final class BSONFieldTable: @unchecked Sendable {
    private let keys: UnsafeMutableBufferPointer<UInt8>
    private let starts: UnsafeMutableBufferPointer<UInt32>
    private let lengths: UnsafeMutableBufferPointer<UInt32>
    private let acceptMasks: UnsafeMutableBufferPointer<UInt32>
    private let checkMasks: UnsafeMutableBufferPointer<UInt32>
    private let elementAcceptMasks: UnsafeMutableBufferPointer<UInt32>
    private let elementCheckMasks: UnsafeMutableBufferPointer<UInt32>
    var table: tendril_field_table_t
    /// The number of fields.
    package let count: Int

    /// - Parameters:
    ///   - keys: the stored keys, in slot order.
    ///   - accepts: for a field and a BSON type, true (valid as is), false (a type mismatch) or
    ///     nil (decode to know).
    ///   - acceptsElement: the same for the elements of an array or document field whose elements
    ///     can be judged by type byte; nil for other fields.
    ///   - checksID: true for a top-level document, whose `_id` must be an ObjectId; false for an
    ///     embedded one, where `_id` is an ordinary key.
    package init(keys fieldKeys: [String], checksID: Bool, accepts: (Int, BSONType) -> Bool?, acceptsElement: (Int) -> ((BSONType) -> Bool?)?) {
        count = fieldKeys.count
        let blob = fieldKeys.flatMap { Array($0.utf8) }
        keys = .allocate(capacity: max(blob.count, 1))
        _ = keys.initialize(from: blob)
        starts = .allocate(capacity: max(count, 1))
        lengths = .allocate(capacity: max(count, 1))
        acceptMasks = .allocate(capacity: max(count, 1))
        checkMasks = .allocate(capacity: max(count, 1))
        elementAcceptMasks = .allocate(capacity: max(count, 1))
        elementCheckMasks = .allocate(capacity: max(count, 1))
        var start: UInt32 = 0
        func masks(_ accepts: (BSONType) -> Bool?) -> (accept: UInt32, check: UInt32) {
            var accept: UInt32 = 0
            var check: UInt32 = 0
            // The C walk indexes masks by type byte mod 32 (minKey 0xFF and maxKey 0x7F share bit 31).
            for type in BSONType.allCases {
                let bit: UInt32 = 1 << UInt32(type.rawValue & 31)
                switch accepts(type) {
                case true?: accept |= bit
                case nil: check |= bit
                case false?: break
                }
            }
            return (accept, check)
        }
        for (slot, key) in fieldKeys.enumerated() {
            starts[slot] = start
            lengths[slot] = UInt32(key.utf8.count)
            start += UInt32(key.utf8.count)
            (acceptMasks[slot], checkMasks[slot]) = masks { accepts(slot, $0) }
            if let element = acceptsElement(slot) {
                (elementAcceptMasks[slot], elementCheckMasks[slot]) = masks(element)
            } else {
                (elementAcceptMasks[slot], elementCheckMasks[slot]) = (0, 0)
            }
        }
        table = tendril_field_table_t(
            keys: UnsafePointer(keys.baseAddress), key_starts: UnsafePointer(starts.baseAddress),
            key_lengths: UnsafePointer(lengths.baseAddress), accept_masks: UnsafePointer(acceptMasks.baseAddress),
            check_masks: UnsafePointer(checkMasks.baseAddress),
            element_accept_masks: UnsafePointer(elementAcceptMasks.baseAddress),
            element_check_masks: UnsafePointer(elementCheckMasks.baseAddress), field_count: Int32(count),
            checks_id: checksID ? 1 : 0)
    }

    deinit {
        keys.deallocate()
        starts.deallocate()
        lengths.deallocate()
        acceptMasks.deallocate()
        checkMasks.deallocate()
        elementAcceptMasks.deallocate()
        elementCheckMasks.deallocate()
    }
}

/// The outcome of ``BSONDocument/matchFields(_:offsets:needsCheck:)``.
package enum BSONFieldMatch: Sendable {
    /// Every declared field present has an acceptable type byte; `idOffset` is `_id`'s element
    /// offset, or -1.
    case matched(idOffset: Int)
    /// The field at `slot` has a type byte it cannot hold; its element starts at `offset`.
    case wrongType(slot: Int, offset: Int)
    /// `_id` is not an ObjectId; its element starts at `offset`.
    case idNotObjectID(offset: Int)
    /// The bytes are not well-formed BSON from `offset` on (a document is validated when it is
    /// made, so this reports a broken invariant instead of ignoring the rest of the document).
    case malformed(offset: Int)
}

/// Where up to ``capacity`` fields' elements start in a document, packed four 16-bit lanes to a
/// word (0xFFFF: absent), and which values need decoding to be checked, one bit per field: what
/// ``BSONDocument/matchFields(_:packed:)`` fills. A plain value on the caller's stack, which the
/// C walk writes through its address: no allocation, no closure, nothing retained.
package struct PackedFieldOffsets {
    /// The most fields the lanes hold.
    package static let capacity = 12
    var raw = tendril_packed_offsets_t()

    package init() {}

    /// The lanes: field `slot` is bits `(slot % 4) * 16` of word `slot / 4`.
    package var lanes: (UInt64, UInt64, UInt64) { raw.lanes }
    /// Bit `slot` set: field `slot`'s value must be decoded to know whether it fits.
    package var needsCheck: UInt64 { raw.needs_check }
}

extension BSONDocument {
    /// ``matchFields(_:offsets:needsCheck:)`` into packed lanes (the table has at most
    /// ``PackedFieldOffsets/capacity`` fields); nil when an offset does not fit in a lane (a
    /// document of 64 KiB or more): then use the other form.
    package func matchFields(_ table: BSONFieldTable, packed: inout PackedFieldOffsets) -> BSONFieldMatch? {
        withExtendedLifetime(storage) {
            var outcome = tendril_match_outcome_t()
            var cTable = table.table
            let status = tendril_bson_match_fields_packed(storage.data, UInt32(storage.length), &cTable, &packed.raw, -1, &outcome)
            return Self.fieldMatch(status, outcome)
        }
    }

    /// ``validatingCopy(of:matching:offsets:needsCheck:)`` into packed lanes; nil when an offset
    /// does not fit in a lane: then use the other form (nothing was copied).
    package static func validatingCopy(of bytes: UnsafeBufferPointer<UInt8>, matching table: BSONFieldTable,
                                       packed: inout PackedFieldOffsets) throws -> (document: BSONDocument, match: BSONFieldMatch)? {
        var cTable = table.table
        return try validatingCopy(of: bytes) { data, length, outcome in
            tendril_bson_match_fields_packed(data, length, &cTable, &packed.raw, Int32(maximumNestingDepth), &outcome)
        } rematch: { document in
            document.matchFields(table, packed: &packed)
        }
    }

    /// Validates bytes from outside (a fetched batch) and matches them to `table`'s fields, in
    /// one walk, then copies them into a document: what ``init(validatingCopyOf:length:)``
    /// followed by ``matchFields(_:offsets:needsCheck:)`` do, walking the bytes once, not twice.
    /// - Throws: ``BSONError``, as ``init(bytes:)``, when the bytes are not valid BSON; then
    ///   nothing is copied.
    package static func validatingCopy(of bytes: UnsafeBufferPointer<UInt8>, matching table: BSONFieldTable,
                                       offsets: UnsafeMutableBufferPointer<Int32>,
                                       needsCheck: UnsafeMutableBufferPointer<UInt8>) throws -> (document: BSONDocument, match: BSONFieldMatch) {
        var cTable = table.table
        let copied = try validatingCopy(of: bytes) { data, length, outcome in
            tendril_bson_validate_and_match_fields(data, length, &cTable, offsets.baseAddress, needsCheck.baseAddress,
                                                   Int32(maximumNestingDepth), &outcome)
        } rematch: { document in
            offsets.update(repeating: -1)
            needsCheck.update(repeating: 0)
            return document.matchFields(table, offsets: offsets, needsCheck: needsCheck)
        }
        // The array form has room for every offset, so its walk never runs out of room.
        guard let copied else { throw BSONError(.malformedBytes, "a field offset did not fit the offset arrays") }
        return copied
    }

    /// Runs `walk` (a validating C walk that also matches fields; it gets the bytes, their
    /// length, and the outcome to fill) over `bytes`, and copies them once they are known valid.
    /// Nil when an offset was too large for the walk's form.
    @inline(__always)
    private static func validatingCopy(
        of bytes: UnsafeBufferPointer<UInt8>,
        walk: (UnsafePointer<UInt8>, UInt32, inout tendril_match_outcome_t) -> tendril_match_status_t,
        rematch: (BSONDocument) -> BSONFieldMatch?
    ) throws -> (document: BSONDocument, match: BSONFieldMatch)? {
        guard let base = bytes.baseAddress, bytes.count >= 5, bytes.count <= Int(Int32.max) else {
            throw BSONError(.malformedBytes, "a BSON document is 5 to 2^31-1 bytes long, got \(bytes.count)")
        }
        var outcome = tendril_match_outcome_t()
        let status = walk(base, UInt32(bytes.count), &outcome)
        switch status {
        case TENDRIL_MATCH_OFFSET_TOO_LARGE:
            return nil
        case TENDRIL_MATCH_OK:
            break
        default:
            // The walk stopped at the first problem, validating nothing after it: the full
            // validation decides, so invalid bytes throw the error the cursor itself reports.
            try validate(base, length: bytes.count)
        }
        let document = BSONDocument(storage: BSONStorage.copyingValidated(base, length: bytes.count))
        if status == TENDRIL_MATCH_MALFORMED || status == TENDRIL_MATCH_INVALID {
            // The walk found a fault the full validation did not: match again on the copy,
            // which reports what it finds instead of trusting either walk.
            return rematch(document).map { (document, $0) }
        }
        return fieldMatch(status, outcome).map { (document, $0) }
    }

    /// What a C walk's status stands for; nil when an offset was too large for a lane.
    private static func fieldMatch(_ status: tendril_match_status_t, _ outcome: tendril_match_outcome_t) -> BSONFieldMatch? {
        switch status {
        case TENDRIL_MATCH_OK: .matched(idOffset: Int(outcome.id_offset))
        case TENDRIL_MATCH_WRONG_TYPE: .wrongType(slot: Int(outcome.slot), offset: Int(outcome.problem_offset))
        case TENDRIL_MATCH_ID_NOT_OBJECT_ID: .idNotObjectID(offset: Int(outcome.problem_offset))
        case TENDRIL_MATCH_OFFSET_TOO_LARGE: nil
        default: .malformed(offset: Int(outcome.problem_offset))   // MALFORMED, or INVALID on trusted bytes
        }
    }

    /// Matches the document's elements to `table`'s fields in one walk, writing each field's
    /// element offset (left as is when absent) and flagging values that need decoding to be
    /// checked.
    package func matchFields(_ table: BSONFieldTable, offsets: UnsafeMutableBufferPointer<Int32>,
                             needsCheck: UnsafeMutableBufferPointer<UInt8>) -> BSONFieldMatch {
        withExtendedLifetime(storage) {
            var outcome = tendril_match_outcome_t()
            let status = withUnsafePointer(to: table.table) { tablePointer in
                tendril_bson_match_fields(storage.data, UInt32(storage.length), tablePointer, offsets.baseAddress,
                                          needsCheck.baseAddress, &outcome)
            }
            // The array form has room for every offset: never nil.
            return Self.fieldMatch(status, outcome) ?? .malformed(offset: Int(outcome.problem_offset))
        }
    }
}
