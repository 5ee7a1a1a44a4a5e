import TendrilDriver

/// A reference access through a parent's field: what a ``FetchMode/raise`` refusal names.
struct LazyAccess {
    /// The access's own mode (``ReferenceHandleProtocol/fetching(_:)``); nil: the cache's,
    /// read under the cache's lock while it resolves.
    let mode: FetchMode?
    /// The parent's class.
    let referencingClass: Document.Type
    /// The field's slot in that class's schema.
    let slot: Int
    /// The field's stored key.
    let field: String
    /// Every id the field stores in a document of `referencingClass`: what a peer fetch asks
    /// for on behalf of the parent's siblings.
    let referencedIDs: @Sendable (Document) -> [ObjectID]
    /// The most ids a peer fetch asks for on behalf of each peer (nil: all of them). A list's
    /// async sequence sets its window: each peer's first window comes with the requester's, so
    /// streaming a long list never brings whole lists of its peers into memory.
    var peerIDLimit: Int?

    /// The error refusing to fetch `id`, a document of `target`, for this access. Names are
    /// looked up here, so an access that is served pays nothing for them.
    func refusal(_ target: Document.Type, id: ObjectID) -> DocumentError {
        let fields = Schema.of(referencingClass).fields
        let property = fields.indices.contains(slot) ? fields[slot].name : field
        return DocumentError(.lazyLoadRefused(referencingClass: String(describing: referencingClass), property: property),
                             collection: target.collectionName, documentID: .objectID(id), field: field)
    }
}

extension ReferenceHandleProtocol {
    /// This access, for the parent's cache.
    var lazyAccess: LazyAccess {
        let slot = self.slot
        return LazyAccess(mode: _state.fetchMode, referencingClass: type(of: parent), slot: slot, field: field,
                          referencedIDs: { Self._referencedIDs(in: $0, slot: slot) })
    }
}
