import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Tendril
import Testing
@testable import PeopleService

/// Each test runs the application on its own database of the test server (`MONGODB_URI`, set by
/// `scripts/example.sh`), and drops it afterwards.
func withApplication(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    guard let uri = ProcessInfo.processInfo.environment["MONGODB_URI"] else {
        throw TestServerMissing()
    }
    var settings = ServiceSettings()
    settings.mongoURI = uri
    settings.databaseName = "people_service_test_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    settings.logLevel = .warning
    let app = try buildApplication(settings)
    try await app.test(.router, body)
    let client = try MongoClient(uri)
    try await client.database(settings.databaseName).drop()
}

struct TestServerMissing: Error, CustomStringConvertible {
    var description: String { "MONGODB_URI is not set: run the tests with `bash scripts/example.sh`, which starts a test server" }
}

/// The JSON body of a response, as an object.
func object(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}

@discardableResult
func post(_ client: any TestClientProtocol, _ uri: String, _ json: String, expect status: HTTPResponse.Status = .created) async throws -> [String: Any] {
    try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: json)) { response in
        #expect(response.status == status, "\(String(buffer: response.body))")
        return try object(response)
    }
}

@Suite("PeopleService routes")
struct RouteTests {
    @Test("people are created, read, updated with only the changed fields, and deleted")
    func peopleLifecycle() async throws {
        try await withApplication { client in
            let ada = try await post(client, "/people", #"{"name":"Ada","age":36,"email":"ada@example.com"}"#)
            let id = try #require(ada["id"] as? String)
            #expect(id.count == 24 && ada["friends"] as? [String] == [])

            try await client.execute(uri: "/people/\(id)", method: .put, body: ByteBuffer(string: #"{"age":37}"#)) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["age"] as? Int == 37 && body["name"] as? String == "Ada" && body["email"] as? String == "ada@example.com")
            }
            try await client.execute(uri: "/people/\(id)", method: .get) { response in
                let body = try object(response)
                #expect(body["age"] as? Int == 37)
            }
            try await client.execute(uri: "/people/\(id)", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/people/\(id)", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("friends are ids, or embedded with ?embed=friends")
    func friends() async throws {
        try await withApplication { client in
            let ada = try #require(try await post(client, "/people", #"{"name":"Ada"}"#)["id"] as? String)
            let grace = try #require(try await post(client, "/people", #"{"name":"Grace"}"#)["id"] as? String)
            try await client.execute(uri: "/people/\(ada)/friends/\(grace)", method: .post) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["friends"] as? [String] == [grace])
            }
            try await client.execute(uri: "/people/\(ada)", method: .get) { response in
                let body = try object(response)
                #expect(body["friends"] as? [String] == [grace])
            }
            try await client.execute(uri: "/people/\(ada)?embed=friends", method: .get) { response in
                let friends = try #require(try object(response)["friends"] as? [[String: Any]])
                #expect(friends.map { $0["name"] as? String } == ["Grace"])
                #expect(friends.map { $0["id"] as? String } == [grace])
            }
            try await client.execute(uri: "/people?limit=10", method: .get) { response in
                let items = try #require(try object(response)["items"] as? [[String: Any]])
                #expect(items.compactMap { $0["name"] as? String } == ["Ada", "Grace"])
            }
            // Deleting Grace pulls her from Ada's friends (the list's delete rule).
            try await client.execute(uri: "/people/\(grace)", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/people/\(ada)", method: .get) { response in
                let friends = try object(response)["friends"] as? [String]
                if ProcessInfo.processInfo.environment["TENDRIL_TEST_SERVER"] == "nx-27017" {
                    // docs/server-compatibility.md: nx matches no ObjectId inside an array, so no
                    // delete rule on a list finds its documents there.
                    withKnownIssue("nx-27017 does not match ObjectIds in arrays") { #expect(friends == []) }
                } else {
                    #expect(friends == [])
                }
            }
        }
    }

    @Test("meetings embed their organiser and attendees")
    func meetings() async throws {
        try await withApplication { client in
            let ada = try #require(try await post(client, "/people", #"{"name":"Ada"}"#)["id"] as? String)
            let grace = try #require(try await post(client, "/people", #"{"name":"Grace"}"#)["id"] as? String)
            let meeting = try await post(client, "/meetings", """
                {"title":"Engines","startsAt":"2026-12-03T10:00:00.000Z","organizer":"\(ada)","attendees":["\(ada)","\(grace)"]}
                """)
            let id = try #require(meeting["id"] as? String)
            #expect(meeting["organizer"] as? String == ada, "a created meeting answers with ids")
            #expect(meeting["startsAt"] as? String == "2026-12-03T10:00:00.000Z")

            try await client.execute(uri: "/meetings/\(id)", method: .get) { response in
                let body = try object(response)
                #expect((body["organizer"] as? [String: Any])?["name"] as? String == "Ada")
                #expect((body["attendees"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["Ada", "Grace"])
            }
            try await client.execute(uri: "/meetings?after=2026-12-01T00:00:00Z", method: .get) { response in
                let items = try #require(try object(response)["items"] as? [[String: Any]])
                #expect(items.count == 1)
                #expect((items.first?["attendees"] as? [[String: Any]])?.count == 2)
            }
            try await client.execute(uri: "/meetings?after=2027-01-01T00:00:00Z", method: .get) { response in
                let body = try object(response)
                #expect((body["items"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test("bad input is a 400 naming the field; unknown ids are 404s")
    func errors() async throws {
        try await withApplication { client in
            try await post(client, "/people", #"{"name":"Old","age":200}"#, expect: .badRequest)
            try await post(client, "/people", #"{"name":"Typo","age":"forty"}"#, expect: .badRequest)
            try await post(client, "/people", #"{"name":"Bad","friends":["nope"]}"#, expect: .badRequest)
            try await post(client, "/meetings", #"{"title":"T","startsAt":"soon"}"#, expect: .badRequest)
            try await post(client, "/meetings", #"{"title":"T","organizer":"65f1a2b3c4d5e6f708192a3b"}"#, expect: .notFound)
            try await client.execute(uri: "/people", method: .post, body: ByteBuffer(string: #"{"age":"forty"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("age"))
            }
            try await client.execute(uri: "/people/not-an-id", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/people/65f1a2b3c4d5e6f708192a3b", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
