import Foundation
import Synchronization
import Testing
@testable import Tendril
@testable import TendrilDriver

/// Counts its inits; its init reads a field, so the hidden prototype's own init re-enters the
/// schema while the prototype is being made.
final class InitCounted: Document {
    static let inits = Atomic<Int>(0)
    @Field var name = ""
    @Field var age: Int = 0
    @Reference<InitCounted> var friend
    var summary: String { "\(name) \(age)" }

    required init() {
        super.init()
        InitCounted.inits.add(1, ordering: .relaxed)
        _ = age
    }
}

/// Generic classes have static stored properties nowhere to live: counted here.
let initCountedBoxInits = Atomic<Int>(0)

/// A generic class: its key paths are new objects on every access.
final class InitCountedBox<T: FieldValue>: Document {
    @Field var first: Int = 0
    @Field var payload: T?

    required init() {
        super.init()
        initCountedBoxInits.add(1, ordering: .relaxed)
    }
}

/// Declares a private wrapper whose name its subclass uses too: the name cannot tell them apart.
class ShadowBase: Document {
    @Field("baseCode") private var code = "base"
    var baseCode: String {
        get { code }
        set { code = newValue }
    }
}

/// Its init reads both fields, which re-enters the schema while its prototype is being made.
final class ShadowSub: ShadowBase {
    static let inits = Atomic<Int>(0)
    @Field var code = "sub"

    required init() {
        super.init()
        ShadowSub.inits.add(1, ordering: .relaxed)
        _ = code + baseCode
    }
}

@Suite("Schema prototype")
struct PrototypeTests {
    @Test("init() runs once for the hidden prototype per class, however many key paths are resolved")
    func prototypeInitRunsOnce() throws {
        // Key paths first, before any instance of the class exists.
        for _ in 0..<3 {
            _ = InitCounted.objects.filter(\.$name == "x").filter(\.$age > 1)
            _ = InitCounted.objects.only(\.$name, \.age).projectionDocument
            _ = InitCounted.objects.exclude(\.$friend, \.summary)
            let schema = Schema.of(InitCounted.self)
            #expect(schema.slot(forProjected: \InitCounted.$age) == 1)
            #expect(schema.slot(forProperty: \InitCounted.age) == 1)
            #expect(schema.slot(forProperty: \InitCounted.$age) == nil)
            #expect(schema.slot(forProjected: \InitCounted.$friend) == 2)
            #expect(schema.slot(forProperty: \InitCounted.summary) == nil)
        }
        #expect(InitCounted.inits.load(ordering: .relaxed) == 1)
        // Then an instance of our own, every field read and written (storage key paths).
        let person = InitCounted()
        person.name = "Ada"
        person.age += 36
        person.friend = ObjectID()
        #expect(person.name == "Ada" && person.age == 36 && person.friend != nil)
        #expect(InitCounted.inits.load(ordering: .relaxed) == 2, "ours, and the prototype's one")
    }

    @Test("a generic class's prototype is made once, though its key paths are new objects each time")
    func genericPrototypeInitRunsOnce() throws {
        // An instance first this time: its field reads make the prototype.
        let box = InitCountedBox<Int>()
        box.first = 3
        box.payload = 4
        #expect(box.first == 3 && box.payload == 4)
        for _ in 0..<5 {
            let schema = Schema.of(InitCountedBox<Int>.self)
            #expect(schema.slot(forProjected: \InitCountedBox<Int>.$payload) == 1)
            #expect(schema.slot(forProperty: \InitCountedBox<Int>.first) == 0)
            _ = InitCountedBox<Int>.objects.filter(\.$first > 1).only(\.$payload)
            #expect(box.first == 3)
        }
        #expect(initCountedBoxInits.load(ordering: .relaxed) == 2, "ours, and the prototype's one")
    }

    @Test("two wrappers of one name at two levels of a class are told apart, on the one prototype")
    func shadowedWrapperNames() throws {
        let shadow = ShadowSub()
        #expect(shadow.code == "sub" && shadow.baseCode == "base")
        shadow.code = "s2"
        shadow.baseCode = "b2"
        #expect(shadow.code == "s2" && shadow.baseCode == "b2")
        let other = ShadowSub()
        #expect(other.code == "sub" && other.baseCode == "base")
        let schema = Schema.of(ShadowSub.self)
        #expect(schema.keys == ["baseCode", "code"])
        #expect(schema.slot(forProperty: \ShadowSub.baseCode) == 0 && schema.slot(forProjected: \ShadowSub.$code) == 1)
        #expect(schema.declarationProblem == nil)
        #expect(ShadowSub.inits.load(ordering: .relaxed) == 3, "ours, and the prototype's one")
    }
}
