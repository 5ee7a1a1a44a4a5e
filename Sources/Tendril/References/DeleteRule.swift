/// What happens to documents referencing a document that is deleted through Tendril
/// (MongoEngine's `reverse_delete_rule`), declared on the reference field:
///
/// ```swift
/// final class Meeting: Document {
///     @Reference<Room>(onDelete: .deny) var room             // a room in use cannot be deleted
///     @ReferenceList<Person>(onDelete: .pull) var attendees   // deleted people leave the list
///     @Reference<Division>(onDelete: .cascade) var division   // deleting a division deletes its meetings
/// }
/// ```
/// > Note: A rule applies once the referencing class is known to Tendril: after its first use
/// in the process, or after ``DeleteRules/register(_:)`` (call it at start-up for classes that
/// declare rules). Deletes made outside Tendril (the shell, raw driver calls) apply none.
public enum DeleteRule: Sendable, Equatable {
    /// Leave referencing documents as they are (their references then dangle).
    case nothing
    /// Unset the reference (single), or remove the id (list) or its entries (dictionary).
    case nullify
    /// Delete the referencing documents too (applying their own rules).
    case cascade
    /// Remove the id from reference lists (for a single reference, the same as ``nullify``).
    case pull
    /// Refuse the delete while any document references it: ``DocumentError/Kind/deleteDenied(referencedBy:)``.
    case deny
}
