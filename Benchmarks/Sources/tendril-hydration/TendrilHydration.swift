import ArgumentParser
import Foundation
import MallocInterposerSwift
import Tendril

/// `tendril-hydration`: hydration from in-memory BSON against a raw libbson walk, with
/// allocation counts. An executable of its own because it links ordo-one's malloc-interposer,
/// which replaces malloc for the whole process (a 16-byte header per allocation, an extra call
/// per malloc and free): the other benchmarks must not run with it.
@main
struct Hydration: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tendril-hydration",
        abstract: "Hydration from in-memory BSON against a raw libbson walk (no server).")

    @Flag(help: "20,000 documents instead of 100,000.")
    var quick = false

    @Option(help: "How many documents.")
    var count: Int?

    @Option(help: "Write the results as CSV to this file.")
    var csv: String?

    @Option(help: "Only repeat hydrate + read 2 fields this many times over the documents, for a profiler (perf, callgrind); prints nothing else.")
    var profile: Int?

    @Flag(help: "With --profile: read all 10 fields instead of 2.")
    var profileAllFields = false

    func run() throws {
        let count = self.count ?? (quick ? 20_000 : 100_000)
        MallocInterposerSwift.initialize()
        if let profile {
            try HydrationBenchmark(count: count).profileReading(allFields: profileAllFields, rounds: profile)
            return
        }
        print("Hydrating \(count) documents of a 10-field model from in-memory BSON (best of 7, modes interleaved)...")
        let rows = try HydrationBenchmark(count: count).run()
        let floor = rows[0].nanosecondsPerDocument
        var table = "mode                        ns/doc    docs/s  ratio  allocs/doc\n"
        var csvText = "mode,docs,ns_per_doc,docs_per_second,ratio_to_raw,allocations_per_doc\n"
        for row in rows {
            let perSecond = 1e9 / row.nanosecondsPerDocument
            let ratio = row.nanosecondsPerDocument / floor
            let allocations = row.allocationsPerDocument.map { String(format: "%.1f", $0) } ?? "n/a"
            table += row.mode.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: " %8.0f %9.0f %6.2f  ", row.nanosecondsPerDocument, perSecond, ratio) + allocations + "\n"
            csvText += "\(row.mode),\(count),\(String(format: "%.0f", row.nanosecondsPerDocument)),\(String(format: "%.0f", perSecond)),"
                + "\(String(format: "%.2f", ratio)),\(row.allocationsPerDocument.map { String(format: "%.1f", $0) } ?? "")\n"
        }
        print(table, terminator: "")
        if !HydrationBenchmark.countsAllocations {
            print("(allocation counts need the interposer preloaded: run bash Benchmarks/run.sh hydration)")
        }
        if let csv {
            try csvText.write(toFile: csv, atomically: true, encoding: .utf8)
            print("CSV written to \(csv)")
        }
    }
}
