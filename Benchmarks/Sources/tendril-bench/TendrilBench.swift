import Foundation
import MallocInterposerSwift

/// `tendril-bench hydration [--count N] [--quick] [--csv FILE]`
@main
struct TendrilBench {
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first, command == "hydration" else {
            print("usage: tendril-bench hydration [--count N] [--quick] [--csv FILE]")
            exit(2)
        }
        arguments.removeFirst()
        var count = 100_000
        var csvPath: String?
        while let argument = arguments.first {
            arguments.removeFirst()
            switch argument {
            case "--quick": count = 20_000
            case "--count": count = arguments.first.flatMap(Int.init) ?? count; if !arguments.isEmpty { arguments.removeFirst() }
            case "--csv": csvPath = arguments.first; if !arguments.isEmpty { arguments.removeFirst() }
            default: print("unknown argument \(argument)"); exit(2)
            }
        }
        MallocInterposerSwift.initialize()
        do {
            print("Hydrating \(count) documents of a 10-field model from in-memory BSON (best of 5)...")
            let rows = try HydrationBenchmark(count: count).run()
            let floor = rows[0].nanosecondsPerDocument
            let header = "mode                        ns/doc    docs/s  ratio  allocs/doc"
            print(header)
            print(String(repeating: "-", count: header.count))
            var csv = "mode,docs,ns_per_doc,docs_per_second,ratio_to_raw,allocations_per_doc\n"
            for row in rows {
                let perSecond = 1e9 / row.nanosecondsPerDocument
                let ratio = row.nanosecondsPerDocument / floor
                let allocations = row.allocationsPerDocument.map { String(format: "%.1f", $0) } ?? "n/a"
                let mode = row.mode.padding(toLength: 26, withPad: " ", startingAt: 0)
                print(mode + String(format: " %8.0f %9.0f %6.2f  ", row.nanosecondsPerDocument, perSecond, ratio) + allocations)
                csv += "\(row.mode),\(count),\(row.nanosecondsPerDocument),\(perSecond),\(ratio),\(row.allocationsPerDocument.map { "\($0)" } ?? "")\n"
            }
            if !HydrationBenchmark.countsAllocations {
                print("(allocation counts need the interposer preloaded: run Benchmarks/run-hydration.sh)")
            }
            if let csvPath { try csv.write(toFile: csvPath, atomically: true, encoding: .utf8) }
        } catch {
            print("tendril-bench failed: \(error)")
            exit(1)
        }
    }
}
