import Testing
@testable import Tendril
@testable import TendrilDriver

/// SIEVE and S3-FIFO replay small scripted traces straight on their storages (no server), each
/// outcome worked out by hand in the comments: which accesses hit, what is evicted in which
/// order, and which ids remain (read from which documents are still alive: the storage is the
/// only owner of what it keeps).
@Suite("References: SIEVE and S3-FIFO on scripted traces")
struct CachePolicyTraceTests {
    /// Replays a trace as a parent's cache would: a lookup, and on a miss the store of a fresh
    /// document, counting the evictions the storage reports.
    struct Replay {
        let storage: any ReferenceCacheStorage
        /// Each id's size in bytes; 100 unless listed.
        let costs: [String: Int]
        private var keys: [String: ReferenceKey] = [:]
        private var stored: [String: WeakDocument] = [:]
        private(set) var hits = 0, misses = 0
        private(set) var evicted: [String] = []
        private(set) var removed = 0

        init(_ policy: CachePolicy, costs: [String: Int] = [:]) {
            storage = policy.base.makeStorage()
            self.costs = costs
        }

        /// Replays `trace`, ids separated by spaces.
        mutating func replay(_ trace: String) {
            for name in trace.split(separator: " ").map(String.init) {
                let key = self.key(name)
                if case .hit = storage.lookUp(key) {
                    hits += 1
                    continue
                }
                misses += 1
                let document = Pal()
                stored[name] = WeakDocument(document: document)
                let dropped = storage.store(document, for: key, cost: costs[name] ?? 100)
                evicted += dropped.map { dropped in keys.first { $0.value == dropped }?.key ?? "?" }
            }
        }

        /// Drops `name`'s document, as `evict(_:id:)` does; returns whether it was kept.
        mutating func remove(_ name: String) -> Bool {
            guard let key = keys[name], storage.remove(key) else { return false }
            removed += 1
            return true
        }

        /// The ids whose documents are still alive, kept by the storage alone.
        var residents: Set<String> { Set(stored.filter { $0.value.document != nil }.keys) }

        private mutating func key(_ name: String) -> ReferenceKey {
            if let key = keys[name] { return key }
            let key = ReferenceKey(Pal.self, id: ObjectID())
            keys[name] = key
            return key
        }
    }

    final class WeakDocument {
        weak var document: Document?
        init(document: Document) { self.document = document }
    }

    /// Checks what every replay must agree with: the storage's own counts are the survivors'.
    private func expectConsistent(_ replay: Replay, bytes: Int) {
        #expect(replay.storage.residentCount == replay.residents.count)
        #expect(replay.storage.residentBytes == bytes)
        #expect(replay.misses - replay.evicted.count - replay.removed == replay.residents.count,
                "every document stored is kept, evicted or removed")
    }

    @Test("SIEVE keeps a visited id through a scan that LRU loses it to")
    func sieveKeepsVisited() {
        // Capacity 3; the queue written tail → head, * = visited, ^ = where the hand waits.
        //  A B C        miss ×3         [A B C]
        //  A            hit             [A* B C]
        //  D            hand from the tail: clears A, evicts B       [A C^ D]
        //  B            evicts C (not visited)                        [A D^ B]
        //  E            evicts D                                      [A B^ E]
        //  A            hit                                           [A* B^ E]
        //  C            evicts B                                      [A* E^ C]
        //  F            evicts E                                      [A* C^ F]
        var sieve = Replay(.sieve(capacity: 3))
        sieve.replay("A B C A D B E A C F")
        #expect(sieve.hits == 2 && sieve.misses == 8)
        #expect(sieve.evicted == ["B", "C", "D", "B", "E"])
        #expect(sieve.residents == ["A", "C", "F"])
        expectConsistent(sieve, bytes: 300)

        // LRU on the same trace: D evicts B, B evicts C, E evicts A (its hit is old news by
        // then), A evicts D, C evicts B, F evicts E. One hit.
        var lru = Replay(.lru(capacity: 3))
        lru.replay("A B C A D B E A C F")
        #expect(lru.hits == 1 && lru.evicted == ["B", "C", "A", "D", "B", "E"])
        #expect(lru.residents == ["A", "C", "F"])
    }

    @Test("SIEVE's hand wraps past the head, stays where it stopped, and follows a removal")
    func sieveHand() {
        // Capacity 2.
        //  A B A B      [A* B*]
        //  C            hand from the tail clears A and B, wraps to A, evicts it    [B^ C]
        //  D            evicts B where the hand waits                                [C^ D]
        var sieve = Replay(.sieve(capacity: 2))
        sieve.replay("A B A B C D")
        #expect(sieve.hits == 2 && sieve.evicted == ["A", "B"])
        #expect(sieve.residents == ["C", "D"])

        //  E            evicts C          [D^ E]
        //  remove D     the hand moves on to E (D's slot is reused by F next)   [E^]
        //  F            room: no eviction [E^ F]
        //  G            evicts E, not F in D's old slot                          [F^ G]
        sieve.replay("E")
        let removedD = sieve.remove("D")
        #expect(removedD)
        sieve.replay("F G")
        #expect(sieve.evicted == ["A", "B", "C", "E"])
        #expect(sieve.residents == ["F", "G"])
        expectConsistent(sieve, bytes: 200)
    }

    @Test("SIEVE under a byte budget keeps exactly what fits and refuses what never can")
    func sieveBytes() {
        // 300 bytes; A and B 100, C 150, D 250, X 400.
        //  A B A        [A* B] 200 bytes
        //  C            350 > 300: clears A, evicts B              [A C] 250
        //  D            500: evicts A (cleared), then 400: evicts C [D] 250
        //  X            larger than the budget: refused, counted as an eviction
        var sieve = Replay(.sieve(maxBytes: 300), costs: ["C": 150, "D": 250, "X": 400])
        sieve.replay("A B A C D X")
        #expect(sieve.hits == 1 && sieve.evicted == ["B", "A", "C", "X"])
        #expect(sieve.residents == ["D"])
        expectConsistent(sieve, bytes: 250)
    }

    @Test("S3-FIFO: small to main when hit, to the ghost when not, ghost ids straight to main, main reinserts")
    func s3fifoQueues() {
        // Capacity 4: small 1, main 3, ghost 3 ids. Queues tail → head, hit counts in brackets.
        //  A A B C B D A   S = [A(2) B(1) C(0) D(0)]: 4 kept, no room needed yet
        //  E   full: small's tail A and B were hit: to main, cleared; C was not: evicted, to
        //      the ghost.                         S = [D E]  M = [A B]  G = [C]
        //  B   hit in main                        M = [A B(1)]
        //  F   small's tail D: evicted            S = [E F]  G = [C D]
        //  C   in the ghost: leaves it; room: small's tail E evicted; C goes to main
        //                                         S = [F]  M = [A B(1) C]  G = [D E]
        //  H   small's tail F evicted             S = [H]  G = [D E F]
        //  H   hit                                S = [H(1)]
        //  I   small's tail H hit: to main (4 > its 3); small empty: main's tail A evicted
        //                                         S = [I]  M = [B(1) C H]
        //  J   small's tail I evicted; the ghost forgets D   S = [J]  G = [E F I]
        //  J   hit                                S = [J(1)]
        //  K   J to main; main's tail B hit once: back to the head with 0; C evicted
        //                                         S = [K]  M = [H J B]
        var s3fifo = Replay(.s3fifo(capacity: 4))
        s3fifo.replay("A A B C B D A E B F C H H I J J K")
        #expect(s3fifo.hits == 6 && s3fifo.misses == 11)
        #expect(s3fifo.evicted == ["C", "D", "E", "F", "A", "I", "C"])
        #expect(s3fifo.residents == ["B", "H", "J", "K"])
        expectConsistent(s3fifo, bytes: 400)

        // The ghost still holds E, F and I (not D): E comes back to main, D to small. Room for
        // E: small's tail K evicted (S = [], M = [H J B E]); for D: small is empty, main's
        // tail H evicted (M = [J B E], S = [D]).
        s3fifo.replay("E D")
        #expect(s3fifo.evicted.suffix(2) == ["K", "H"])
        #expect(s3fifo.residents == ["B", "D", "E", "J"])
    }

    @Test("S3-FIFO under a byte budget keeps exactly what fits and refuses what never can")
    func s3fifoBytes() {
        // 1,000 bytes: small 100, main 900, the ghost 900 bytes of ids. 100 bytes each, but W
        // 950 and Z 1,200.
        //  A A B C   S = [A(1) B C] 300 bytes
        //  W   1,250 > 1,000: A hit, to main; B evicted (ghost [B]); still 1,150: C evicted
        //      (ghost [B C]); small empty: main's tail A evicted; 950 fits.  S = [W]
        //  Z   larger than the budget: refused, counted as an eviction
        //  B   in the ghost (leaves it); room: W evicted (the ghost, [C W] = 1,050 bytes,
        //      forgets C, then W itself at 950 > 900); B to main          M = [B] 100 bytes
        var s3fifo = Replay(.s3fifo(maxBytes: 1_000), costs: ["W": 950, "Z": 1_200])
        s3fifo.replay("A A B C W Z B")
        #expect(s3fifo.hits == 1 && s3fifo.evicted == ["B", "C", "A", "Z", "W"])
        #expect(s3fifo.residents == ["B"])
        expectConsistent(s3fifo, bytes: 100)

        // B is in main with no hit and nothing in small: W (not in the ghost any more, to
        // small) needs room, and main's tail B goes.
        s3fifo.replay("W")
        #expect(s3fifo.evicted.last == "B" && s3fifo.residents == ["W"])
        expectConsistent(s3fifo, bytes: 950)
    }

    @Test("names, dangling-id memos and empty budgets", arguments: [
        (CachePolicy.sieve(capacity: 16), "sieve(16)", 16), (.sieve(maxBytes: 4096), "sieve(4096 bytes)", 341),
        (.s3fifo(capacity: 16), "s3fifo(16)", 16), (.s3fifo(maxBytes: 4096), "s3fifo(4096 bytes)", 341),
    ])
    func namesAndMemos(policy: CachePolicy, name: String, danglingIDs: Int) {
        #expect(policy.description == name)
        #expect(policy.base.danglingIDCapacity == danglingIDs)
    }

    @Test("a zero budget keeps nothing", arguments: [
        CachePolicy.sieve(capacity: 0), .sieve(maxBytes: 0), .s3fifo(capacity: 0), .s3fifo(maxBytes: -5),
    ])
    func zeroBudget(policy: CachePolicy) {
        var replay = Replay(policy)
        replay.replay("A A")
        #expect(replay.hits == 0 && replay.evicted == ["A", "A"] && replay.residents.isEmpty)
        expectConsistent(replay, bytes: 0)
    }
}
