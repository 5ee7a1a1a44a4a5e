internal import CTendrilBSON

/// A document class's fields prepared for ``match(_:offsets:needsCheck:)``:
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

/// The bytes a load walks: a document already held (valid, so the walk trusts it and only
/// matches), or bytes as the server sent them (the same walk validates them, and they are
/// copied into a document once known valid).
package enum LoadSource {
    case document(BSONDocument)
    /// Not validated; valid only during the call that receives them.
    case received(UnsafeBufferPointer<UInt8>)
}

/// How loading a stored document ended: the C walk's status and outcome
/// (`tendril_match_status_t`, `tendril_match_outcome_t`) as one value, with the two checks
/// made after the walk (libbson's full validation of bytes the walk refused, required fields).
/// Tendril turns it into a `DocumentError` in one place.
package enum LoadOutcome: Sendable {
    /// Every declared field present fits; `idOffset` is `_id`'s element offset, or -1.
    case loaded(idOffset: Int)
    /// The field at `slot` holds a value it cannot hold; its element starts at `offset`.
    case wrongType(slot: Int, offset: Int)
    /// `_id` is not an ObjectId; its element starts at `offset`.
    case idNotObjectID(offset: Int)
    /// A `.required` field is absent or null (checked after the walk, where it was loaded).
    case missingRequired(slot: Int)
    /// A held document is not well-formed BSON from `offset` on (it was validated when it was
    /// made, so this reports a broken invariant instead of ignoring the rest of the document).
    case malformed(offset: Int)
    /// Received bytes are not valid BSON; nothing was copied. Indirect: the error is many words
    /// wide, and inline it made every outcome, the common `.loaded` too, as wide to copy.
    indirect case invalid(BSONError)
}

/// Where up to ``capacity`` fields' elements start in a document, packed four 16-bit lanes to a
/// word (0xFFFF: absent), and which values need decoding to be checked, one bit per field: what
/// ``BSONFieldTable/match(_:packed:)`` fills. A plain value on the caller's stack, which the
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

extension BSONFieldTable {
    /// ``match(_:offsets:needsCheck:)`` into packed lanes (the table has at most
    /// ``PackedFieldOffsets/capacity`` fields); nil when an offset does not fit in a lane (a
    /// document of 64 KiB or more): then use the other form (nothing was copied).
    package func match(_ source: LoadSource, packed: inout PackedFieldOffsets) -> (document: BSONDocument?, outcome: LoadOutcome)? {
        var cTable = table
        // The C function resets the lanes itself, so a second walk starts clean.
        return Self.match(source) { data, length, maxDepth, outcome in
            tendril_bson_match_fields_packed(data, length, &cTable, &packed.raw, maxDepth, &outcome)
        }
    }

    /// Matches a document's elements to the fields in one C walk, writing each field's element
    /// offset (left as is when absent) and flagging values that need decoding to be checked.
    /// Received bytes are validated in the same walk, then copied: one walk, not two.
    /// - Returns: the document (nil when received bytes are invalid) and the outcome.
    package func match(_ source: LoadSource, offsets: UnsafeMutableBufferPointer<Int32>,
                       needsCheck: UnsafeMutableBufferPointer<UInt8>) -> (document: BSONDocument?, outcome: LoadOutcome) {
        var cTable = table
        var walks = 0
        let matched = Self.match(source) { data, length, maxDepth, outcome in
            walks += 1
            if walks > 1 {
                // A second walk (over the copy of bytes the first refused) starts from clean arrays.
                offsets.update(repeating: -1)
                needsCheck.update(repeating: 0)
            }
            return maxDepth < 0
                ? tendril_bson_match_fields(data, length, &cTable, offsets.baseAddress, needsCheck.baseAddress, &outcome)
                : tendril_bson_validate_and_match_fields(data, length, &cTable, offsets.baseAddress, needsCheck.baseAddress,
                                                         maxDepth, &outcome)
        }
        // The array form has room for every offset, so its walk never runs out of room.
        return matched ?? (nil, .malformed(offset: 0))
    }

    /// Runs `walk` (a C match: the bytes, their length, the depth to validate to or -1 to trust
    /// them, the outcome to fill) over `source`. Received bytes that the walk finds valid are
    /// copied; those it refuses are validated in full, which decides (invalid bytes get the
    /// error a cursor reports for them). Nil when an offset was too large for the walk's form.
    @inline(__always)
    private static func match(
        _ source: LoadSource,
        walk: (UnsafePointer<UInt8>, UInt32, Int32, inout tendril_match_outcome_t) -> tendril_match_status_t
    ) -> (document: BSONDocument?, outcome: LoadOutcome)? {
        var outcome = tendril_match_outcome_t()
        switch source {
        case .document(let document):
            let status = withExtendedLifetime(document.storage) {
                walk(document.storage.data, UInt32(document.storage.length), -1, &outcome)
            }
            return loadOutcome(status, outcome).map { (document, $0) }
        case .received(let bytes):
            guard let base = bytes.baseAddress, bytes.count >= 5, bytes.count <= Int(Int32.max) else {
                return (nil, .invalid(BSONError(.malformedBytes, "a BSON document is 5 to 2^31-1 bytes long, got \(bytes.count)")))
            }
            let status = walk(base, UInt32(bytes.count), Int32(BSONDocument.maximumNestingDepth), &outcome)
            switch status {
            case TENDRIL_MATCH_OFFSET_TOO_LARGE:
                return nil
            case TENDRIL_MATCH_OK:
                break
            default:
                // The walk stopped at the first problem, validating nothing after it.
                do {
                    try BSONDocument.validate(base, length: bytes.count)
                } catch {
                    return (nil, .invalid(error as? BSONError ?? BSONError(.malformedBytes, "\(error)")))
                }
            }
            let document = BSONDocument(storage: BSONStorage.copyingValidated(base, length: bytes.count))
            guard status == TENDRIL_MATCH_MALFORMED || status == TENDRIL_MATCH_INVALID else {
                return loadOutcome(status, outcome).map { (document, $0) }
            }
            // The walk found a fault the full validation did not: match again on the copy,
            // which reports what it finds instead of trusting either walk.
            let trusted = withExtendedLifetime(document.storage) {
                walk(document.storage.data, UInt32(document.storage.length), -1, &outcome)
            }
            return loadOutcome(trusted, outcome).map { (document, $0) }
        }
    }

    /// What a C walk's status stands for; nil when an offset was too large for a lane.
    private static func loadOutcome(_ status: tendril_match_status_t, _ outcome: tendril_match_outcome_t) -> LoadOutcome? {
        switch status {
        case TENDRIL_MATCH_OK: .loaded(idOffset: Int(outcome.id_offset))
        case TENDRIL_MATCH_WRONG_TYPE: .wrongType(slot: Int(outcome.slot), offset: Int(outcome.problem_offset))
        case TENDRIL_MATCH_ID_NOT_OBJECT_ID: .idNotObjectID(offset: Int(outcome.problem_offset))
        case TENDRIL_MATCH_OFFSET_TOO_LARGE: nil
        default: .malformed(offset: Int(outcome.problem_offset))   // MALFORMED, or INVALID on trusted bytes
        }
    }
}
