/// A bounded policy's kept entries, in one or more queues (LRU's recency list, SIEVE's FIFO,
/// S3-FIFO's small, main and ghost FIFOs): doubly linked lists threaded through one array of
/// slots, so inserting at a queue's head and removing anywhere are O(1), with no allocation per
/// entry beyond the array's (a freed slot is reused by the next insert).
///
/// A slot's `document` is nil for an id kept without its document (S3-FIFO's ghost); the entries
/// with documents are indexed by key. The queues also carry the policy's budget, which every
/// storage checks against them.
/// > Note: Not thread-safe: storages use it with their cache's lock held.
struct EntryQueues {
    /// What a slot holds.
    struct Entry {
        var key: ReferenceKey
        var document: Document?
        /// The document's BSON size (a ghost keeps it, to size its queue like the main one).
        var cost: Int
        /// Hits the policy counts since it last looked (SIEVE: visited when > 0; S3-FIFO: up to 3).
        var frequency = 0
    }

    private struct Slot {
        var entry: Entry
        var queue: Int
        /// The neighbours towards the head (newer) and the tail (older); -1 at the ends.
        var newer = -1
        var older = -1
    }

    private struct Ends {
        var newest = -1, oldest = -1
        var count = 0, bytes = 0
    }

    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    private var queues: [Ends]
    /// The slots of the entries that hold a document, by key.
    private var documentSlots: [ReferenceKey: Int] = [:]
    /// The policy's bounds.
    let budget: CacheBudget

    /// Empty queues numbered 0 to `queueCount - 1`, for a policy of `budget`.
    init(queueCount: Int, budget: CacheBudget) {
        queues = Array(repeating: Ends(), count: queueCount)
        self.budget = budget
    }

    /// The slot of the document kept under `key`, if any.
    func slot(of key: ReferenceKey) -> Int? { documentSlots[key] }

    /// The document kept under `key` and its slot, if any.
    func document(forKey key: ReferenceKey) -> (slot: Int, document: Document)? {
        guard let slot = documentSlots[key], let document = slots[slot].entry.document else { return nil }
        return (slot, document)
    }

    /// How many entries hold a document, in all queues.
    var documentCount: Int { documentSlots.count }
    /// The sum of the costs of the entries that hold a document, in all queues.
    private(set) var documentBytes = 0

    /// Drops the document kept under `key`; returns whether one was kept.
    mutating func removeDocument(forKey key: ReferenceKey) -> Bool {
        guard let slot = documentSlots[key] else { return false }
        remove(slot)
        return true
    }

    /// The entry in `slot`.
    subscript(slot: Int) -> Entry { slots[slot].entry }

    /// Sets the hit counter of the entry in `slot`.
    mutating func setFrequency(_ frequency: Int, at slot: Int) {
        slots[slot].entry.frequency = frequency
    }

    /// The queue that holds `slot`.
    func queue(of slot: Int) -> Int { slots[slot].queue }

    /// How many entries `queue` holds.
    func count(in queue: Int) -> Int { queues[queue].count }

    /// The sum of the costs of `queue`'s entries.
    func bytes(in queue: Int) -> Int { queues[queue].bytes }

    /// The slot at `queue`'s tail (its oldest entry), if any.
    func oldest(in queue: Int) -> Int? { queues[queue].oldest == -1 ? nil : queues[queue].oldest }

    /// The slot next to `slot` towards its queue's head, if any (the way SIEVE's hand moves).
    func newer(than slot: Int) -> Int? { slots[slot].newer == -1 ? nil : slots[slot].newer }

    /// Puts `entry` at `queue`'s head; returns its slot.
    @discardableResult
    mutating func insertNewest(_ entry: Entry, in queue: Int) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slots[free] = Slot(entry: entry, queue: queue)
            slot = free
        } else {
            slots.append(Slot(entry: entry, queue: queue))
            slot = slots.count - 1
        }
        link(slot, asNewestOf: queue)
        if entry.document != nil {
            documentSlots[entry.key] = slot
            documentBytes += entry.cost
        }
        return slot
    }

    /// Moves `slot` to `queue`'s head (the same queue or another).
    mutating func move(_ slot: Int, toNewestOf queue: Int) {
        unlink(slot)
        link(slot, asNewestOf: queue)
    }

    /// Takes `slot`'s entry out and frees the slot (its document is released with the entry).
    @discardableResult
    mutating func remove(_ slot: Int) -> Entry {
        unlink(slot)
        let entry = slots[slot].entry
        if entry.document != nil {
            documentSlots[entry.key] = nil
            documentBytes -= entry.cost
        }
        slots[slot].entry.document = nil
        freeSlots.append(slot)
        return entry
    }

    /// Empties every queue and gives the array's memory back.
    mutating func removeAll() {
        self = EntryQueues(queueCount: queues.count, budget: budget)
    }

    private mutating func link(_ slot: Int, asNewestOf queue: Int) {
        slots[slot].queue = queue
        slots[slot].older = queues[queue].newest
        slots[slot].newer = -1
        if queues[queue].newest != -1 { slots[queues[queue].newest].newer = slot }
        queues[queue].newest = slot
        if queues[queue].oldest == -1 { queues[queue].oldest = slot }
        queues[queue].count += 1
        queues[queue].bytes += slots[slot].entry.cost
    }

    private mutating func unlink(_ slot: Int) {
        let (queue, newer, older) = (slots[slot].queue, slots[slot].newer, slots[slot].older)
        if newer != -1 { slots[newer].older = older } else { queues[queue].newest = older }
        if older != -1 { slots[older].newer = newer } else { queues[queue].oldest = newer }
        slots[slot].newer = -1
        slots[slot].older = -1
        queues[queue].count -= 1
        queues[queue].bytes -= slots[slot].entry.cost
    }
}

/// The storage of a bounded policy, whose kept documents are its ``EntryQueues``' entries with
/// a document.
protocol QueuedStorage: ReferenceCacheStorage {
    var entries: EntryQueues { get }
}

extension QueuedStorage {
    var residentCount: Int { entries.documentCount }
    var residentBytes: Int { entries.documentBytes }
}
