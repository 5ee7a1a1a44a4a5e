import Foundation

/// A trace of accesses to ids below `idBound`, generated from a seed or read from a file: what
/// the lab replays through each policy.
struct LabWorkload {
    /// `zipf1.0`, `scan`, ..., or the trace file's name.
    let name: String
    /// Each access's id, in order.
    let accesses: [Int32]
    /// How many distinct ids the trace touches (ids are below `idBound`).
    let distinctIDs: Int
    /// One more than the largest id.
    let idBound: Int

    /// A trace of ids below `idBound`, counting the distinct ones it touches.
    init(name: String, accesses: [Int32], idBound: Int) {
        self.name = name
        self.accesses = accesses
        self.idBound = idBound
        var seen = [Bool](repeating: false, count: idBound)
        var distinct = 0
        for id in accesses where !seen[Int(id)] {
            seen[Int(id)] = true
            distinct += 1
        }
        distinctIDs = distinct
    }

    /// The built-in workloads' names.
    static let builtInNames = ["zipf0.8", "zipf1.0", "zipf1.2", "scan", "shift", "onehit"]

    /// A built-in workload of `count` accesses over `ids` ids, from `seed`:
    /// - `zipfS`: Zipf with exponent S over the ids (id 0 the most popular);
    /// - `scan`: a loop over all ids in order;
    /// - `shift`: Zipf 1.0 over a hot tenth of the ids, which moves to the next tenth every
    ///   tenth of the accesses;
    /// - `onehit`: Zipf 1.0 over the ids, with one access in three to an id seen only then
    ///   (one-hit wonders, numbered after the `ids`).
    static func generate(_ name: String, accesses count: Int, ids: Int, seed: UInt64) throws -> LabWorkload {
        var random = SplitMix64(seed: seed)
        var accesses: [Int32] = []
        accesses.reserveCapacity(count)
        switch name {
        case let zipf where zipf.hasPrefix("zipf"):
            guard let exponent = Double(zipf.dropFirst(4)), exponent > 0 else { throw ValidationFailure("unknown workload \(name)") }
            let sampler = ZipfSampler(count: ids, exponent: exponent)
            for _ in 0..<count { accesses.append(Int32(sampler.next(&random))) }
            return LabWorkload(name: name, accesses: accesses, idBound: ids)
        case "scan":
            for index in 0..<count { accesses.append(Int32(index % ids)) }
            return LabWorkload(name: name, accesses: accesses, idBound: ids)
        case "shift":
            let hot = max(ids / 10, 1), phase = max(count / 10, 1)
            let sampler = ZipfSampler(count: hot, exponent: 1.0)
            for index in 0..<count {
                let window = (index / phase) * hot % max(ids - hot + 1, 1)
                accesses.append(Int32(window + sampler.next(&random)))
            }
            return LabWorkload(name: name, accesses: accesses, idBound: ids)
        case "onehit":
            let sampler = ZipfSampler(count: ids, exponent: 1.0)
            var nextOneHit = ids
            for _ in 0..<count {
                if random.next() % 3 == 0 {
                    accesses.append(Int32(nextOneHit))
                    nextOneHit += 1
                } else {
                    accesses.append(Int32(sampler.next(&random)))
                }
            }
            return LabWorkload(name: name, accesses: accesses, idBound: nextOneHit)
        default:
            throw ValidationFailure("unknown workload \(name): one of \(builtInNames.joined(separator: ", ")) or --trace FILE")
        }
    }

    /// A user's trace: one access per line, any token naming the id (blank lines skipped).
    static func read(traceFile path: String) throws -> LabWorkload {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var numbers: [Substring: Int32] = [:]
        var accesses: [Int32] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let token = line.trimmingCharacters(in: .whitespaces)
            guard !token.isEmpty else { continue }
            let key = Substring(token)
            if let number = numbers[key] {
                accesses.append(number)
            } else {
                let number = Int32(numbers.count)
                numbers[key] = number
                accesses.append(number)
            }
        }
        guard !accesses.isEmpty else { throw ValidationFailure("\(path) holds no access (one id per line)") }
        return LabWorkload(name: URL(fileURLWithPath: path).lastPathComponent, accesses: accesses, idBound: numbers.count)
    }
}

/// Zipf's law over ranks 0..<count: rank r drawn with probability proportional to 1 / (r + 1)^s,
/// by binary search in the cumulative weights.
struct ZipfSampler {
    private let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var total = 0.0
        cumulative = (0..<max(count, 1)).map { rank in
            total += 1 / pow(Double(rank + 1), exponent)
            return total
        }
    }

    func next(_ random: inout SplitMix64) -> Int {
        let target = Double(random.next() >> 11) / Double(1 << 53) * (cumulative.last ?? 1)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// A small, fast, seeded generator (Steele, Lea and Flood's SplitMix64): the same seed gives the
/// same trace on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
