import Foundation
import TendrilDriver

/// Documents that arrived together (one streamed batch of a query, one `$in` resolution): under
/// ``FetchMode/peers``, the first member to resolve a reference field its cache cannot serve
/// resolves that field for every live member that has not resolved it yet, with one `$in`.
///
/// Memory: one weak box per member and a bit per member and resolved field. The group holds its
/// members weakly (documents point to it through their ``ReferenceSettings``; it points to
/// nothing strongly), so it keeps nobody alive and dies with the last of its documents. Members
/// are held strongly only while a peer fetch for them runs. A weak reference keeps its object's
/// side table (about 48 bytes) until the reference itself goes, so once half the members (and
/// at least 16) have died, the group drops their boxes: a group kept alive by a few documents
/// (an LRU's survivors) does not keep every freed member's side table.
final class PeerGroup: @unchecked Sendable {
    /// A member, held weakly: a member freed before a peer fetch is not fetched for.
    private struct Member {
        weak var document: Document?
    }

    /// A peer fetch of one field in progress, which other resolvers of that field wait for.
    private final class Flight {
        /// The ids it fetched, with their documents (nil: dangling); nil while running.
        var fetched: [ObjectID: Document?]?
        /// Set when the fetch failed, so waiters fetch for themselves instead.
        var failed = false
    }

    /// A reference field of the members' class: the fields peers resolve together.
    private struct FieldKey: Hashable {
        let slot: Int
        let target: ObjectIdentifier
    }

    // Everything below is guarded by `condition`, whose waiters are resolvers of a field another
    // thread is fetching for the group.
    private let condition = NSCondition()
    private var members: ContiguousArray<Member> = []
    /// By field: which members (by index) were fetched for already.
    private var resolved: [FieldKey: [Bool]] = [:]
    private var flights: [FieldKey: Flight] = [:]
    /// Members freed since the boxes were last compacted.
    private var deadMembers = 0

    /// Adds a document as it is created from the group's batch.
    func add(_ document: Document) {
        condition.lock()
        members.append(Member(document: document))
        condition.unlock()
    }

    /// Called from a member's deinit: counts it, and drops the boxes of freed members once half
    /// of them (at least 16) are freed, unless a peer fetch runs (its members are known by index).
    func memberDidDeinit() {
        condition.lock()
        defer { condition.unlock() }
        deadMembers += 1
        guard deadMembers >= 16, deadMembers * 2 >= members.count, flights.isEmpty else { return }
        let alive = members.indices.filter { members[$0].document != nil }
        members = ContiguousArray(alive.map { members[$0] })
        resolved = resolved.mapValues { done in alive.map { $0 < done.count && done[$0] } }
        deadMembers = 0
    }

    /// How many boxes the group holds, live or not (for tests).
    var memberBoxCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return members.count
    }

    /// How many members are alive (for tests).
    var liveMemberCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return members.reduce(0) { $0 + ($1.document == nil ? 0 : 1) }
    }

    /// The documents `ids` refer to for the member whose cache is `requester`, fetched with one
    /// `$in` (chunked) together with what the same field of every other live member needs; each
    /// other member's cache is given its documents under its own policy. A concurrent peer fetch
    /// of the same field is waited for; what it fetched is used.
    /// - Parameters:
    ///   - ids: the requester's ids its cache cannot serve (distinct).
    ///   - access: the field being resolved (its slot and how to read a member's ids).
    ///   - settings: where to fetch from (the requester's settings).
    ///   - didSendQuery: runs before each query (the requester's count).
    /// - Returns: the documents found; ids without one are absent.
    /// - Throws: ``MongoError``, ``DocumentError`` as ``ReferenceFetch/documents(_:as:projection:settings:didSendQuery:)``.
    func fetch<Target: Document>(_ ids: [ObjectID], as type: Target.Type, for requester: ReferenceCache, access: LazyAccess,
                                 settings: ReferenceSettings?, didSendQuery: () -> Void) throws -> [ObjectID: Target] {
        let key = FieldKey(slot: access.slot, target: ObjectIdentifier(type))
        var found: [ObjectID: Target] = [:]
        var wanted = ids
        condition.lock()
        // Another thread fetching this field for the group: use what it brings.
        while let flight = flights[key] {
            while flight.fetched == nil && !flight.failed { condition.wait() }
            guard let fetched = flight.fetched else { break }
            wanted = wanted.filter { id in
                guard let document = fetched[id] else { return true }
                if let document = document as? Target { found[id] = document }
                return false
            }
            if wanted.isEmpty {
                condition.unlock()
                return found
            }
        }
        let flight = Flight()
        flights[key] = flight
        let candidates = unresolvedMembers(for: key)
        condition.unlock()

        // A peer fetch that ended since the requester's cache missed may have given it these.
        let served = requester.kept(wanted, as: type)
        for case let (id, document?) in served { found[id] = document }
        wanted = wanted.filter { served[$0] == nil }

        var peers: [(cache: ReferenceCache, ids: [ObjectID])] = []
        var all = wanted
        var seen = Set(wanted)
        for (_, member) in candidates {
            let cache = member.referenceCache
            // Fetching for a member that would keep nothing (`.none`, `.weak`) is wasted.
            guard cache !== requester, cache.policy.base.keepsFetchedDocuments else { continue }
            let referenced = access.referencedIDs(member).prefix(access.peerIDLimit ?? .max)
            let served = cache.kept(Array(referenced), as: type)
            var memberIDs: [ObjectID] = []
            var memberSeen = Set<ObjectID>()
            for id in referenced where served[id] == nil && memberSeen.insert(id).inserted { memberIDs.append(id) }
            peers.append((cache, memberIDs))
            for id in memberIDs where seen.insert(id).inserted { all.append(id) }
        }
        let considered = candidates.map(\.index)
        // Through a pool: ids another of its parents is fetching now are left to that fetch.
        let own = Set(wanted)
        let claim = requester.claimPeerIDs(all.filter { !own.contains($0) }, as: type)
        if let claim {
            let sent = own.union(claim.ids)
            all = all.filter(sent.contains)
            peers = peers.map { ($0.cache, $0.ids.filter(sent.contains)) }
        }
        let fetched: [ObjectID: Target]
        do {
            fetched = all.isEmpty ? [:] : try ReferenceFetch.documents(all, as: type, projection: nil, settings: settings,
                                                                       didSendQuery: didSendQuery)
        } catch {
            if let claim { requester.finishPeerClaim(claim, fetched: [:], error: error, as: type) }
            finish(flight, key: key, fetched: nil, resolvedMembers: [])
            throw error
        }
        for peer in peers where !peer.ids.isEmpty {
            var documents: [ObjectID: Target] = [:]
            var missing: [ObjectID] = []
            for id in peer.ids {
                if let document = fetched[id] { documents[id] = document } else { missing.append(id) }
            }
            peer.cache.seed(documents, missing: missing, as: type)
        }
        if let claim { requester.finishPeerClaim(claim, fetched: fetched, error: nil, as: type) }
        var outcome: [ObjectID: Document?] = [:]
        for id in all { outcome[id] = .some(fetched[id]) }
        finish(flight, key: key, fetched: outcome, resolvedMembers: considered)
        for id in wanted { found[id] = fetched[id] }
        return found
    }

    /// The live members not fetched for yet for `key`, with their indexes, held strongly for
    /// the fetch. Called with the lock held.
    private func unresolvedMembers(for key: FieldKey) -> [(index: Int, document: Document)] {
        let done = resolved[key] ?? []
        var live: [(index: Int, document: Document)] = []
        for index in members.indices where !(index < done.count && done[index]) {
            if let document = members[index].document { live.append((index, document)) }
        }
        return live
    }

    /// Marks the members considered (by index) as done for `key`, publishes the flight's outcome
    /// and wakes its waiters. A member is considered once per field: later, only its own
    /// accesses fetch for it (its cache dropped what the peer fetch gave it, or kept nothing).
    private func finish(_ flight: Flight, key: FieldKey, fetched: [ObjectID: Document?]?, resolvedMembers: [Int]) {
        condition.lock()
        var done = resolved[key] ?? []
        if done.count < members.count { done += [Bool](repeating: false, count: members.count - done.count) }
        for index in resolvedMembers { done[index] = true }
        resolved[key] = done
        if let fetched { flight.fetched = fetched } else { flight.failed = true }
        flights[key] = nil
        condition.broadcast()
        condition.unlock()
    }
}
