import PeopleService

// Runs until SIGTERM or SIGINT, then shuts down gracefully (Hummingbird's ServiceGroup).
let app = try buildApplication(.fromEnvironment())
try await app.runService()
