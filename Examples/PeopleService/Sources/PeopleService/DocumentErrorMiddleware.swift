import Hummingbird
import Tendril

/// Turns Tendril's ``DocumentError``s into HTTP errors: bad input is a 400 naming the field,
/// a missing document a 404, a duplicate a 409. Anything else stays a 500.
public struct DocumentErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DocumentError {
            switch error.kind {
            case .typeMismatch, .missingRequiredField, .validationFailed, .invalidFieldKey, .notAField:
                throw HTTPError(.badRequest, message: error.description)
            case .notFound, .danglingReference:
                throw HTTPError(.notFound, message: error.description)
            case .duplicateKey, .versionConflict:
                throw HTTPError(.conflict, message: error.description)
            default:
                throw error
            }
        }
    }
}
