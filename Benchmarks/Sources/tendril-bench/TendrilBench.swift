import ArgumentParser
import Foundation
import MallocInterposerSwift
import Tendril

/// `tendril-bench`: the benchmarks behind every speed and memory claim Tendril makes.
@main
struct TendrilBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tendril-bench",
        abstract: "Tendril's benchmarks: parent growth, hydration and query counts.",
        subcommands: [Growth.self, HydrateFromServer.self, Queries.self, Hydration.self]
    )
}

/// Options every server benchmark takes.
struct CommonOptions: ParsableArguments {
    @Flag(help: "Run the reduced version (under two minutes).")
    var quick = false

    @Option(help: "Write the results as CSV to this file.")
    var csv: String?
}

extension TendrilBench {
    struct Growth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How much a parent grows as its references are resolved, per cache policy.")

        @OptionGroup var options: CommonOptions

        @Option(help: "Draw retained bytes against N (log-log, one line per policy) into this SVG file.")
        var plot: String?

        func run() async throws {
            BenchEnvironment.ensureServerAndAllocatorSettings()
            let sizes = options.quick ? [10, 200] : [1, 10, 50, 200, 1000]
            print("Parent growth: a person with N friends (200-character bios), each friend resolved once")
            print("and its name read, keeping only the parent. N = \(sizes.map(String.init).joined(separator: ", ")).")
            let rows = try await BenchEnvironment.withDatabase { database, recorder in
                try await GrowthBenchmark(sizes: sizes).run(in: database, recorder: recorder)
            }
            var report = Report(columns: GrowthBenchmark.columns)
            for row in rows { report.append(row.cells) }
            print(report.table)
            print("""
                retained_bytes: live heap (glibc mallinfo2, tcache off) after the first pass minus right after \
                loading the parent.
                """)
            try report.writeCSV(to: options.csv)
            if let plot {
                let svg = GrowthPlot(rows: rows, pattern: "one_by_one").svg()
                try svg.write(toFile: plot, atomically: true, encoding: .utf8)
                print("Plot written to \(plot)")
            }
        }
    }

    struct HydrateFromServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hydrate", abstract: "Documents per CPU-second loading documents from the server.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            BenchEnvironment.ensureServerAndAllocatorSettings()
            let count = options.quick ? 20_000 : 100_000
            print("Loading \(count) documents of a 10-field model from the server (CPU time of this process).")
            let rows = try await BenchEnvironment.withDatabase { database, _ in
                try await HydrateBenchmark(count: count).run(in: database, uri: try BenchEnvironment.uri())
            }
            let floor = rows.first { $0.mode == "raw" }?.cpuSeconds ?? 1
            var report = Report(columns: HydrateBenchmark.columns)
            for row in rows {
                let perSecond = Double(row.docs) / max(row.cpuSeconds, 1e-9)
                report.append([row.mode, "\(row.docs)", row.cpuSeconds.formatted(3), perSecond.formatted(0),
                               (row.cpuSeconds / max(floor, 1e-9)).formatted(2), "\(row.peakHeapBytes)"])
            }
            print(report.table)
            try report.writeCSV(to: options.csv)
        }
    }

    struct Queries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The N+1 experiment: queries sent by lazy, batched and prefetched resolution.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            BenchEnvironment.ensureServerAndAllocatorSettings()
            let parents = options.quick ? [100, 300] : [100, 1000]
            print("The N+1 experiment: each meeting's division, 10 attendees and its room's event, for")
            print("\(parents.map(String.init).joined(separator: " and ")) meetings; queries counted by the command observer.")
            let rows = try await BenchEnvironment.withDatabase { database, counter in
                try await QueriesBenchmark(parentCounts: parents).run(in: database, counter: counter)
            }
            var report = Report(columns: QueriesBenchmark.columns)
            for row in rows { report.append([row.mode, "\(row.parents)", "\(row.queries)", row.milliseconds.formatted(1)]) }
            print(report.table)
            try report.writeCSV(to: options.csv)
        }
    }

    struct Hydration: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hydration from in-memory BSON against a raw libbson walk (no server).")

        @Flag(help: "20,000 documents instead of 100,000.")
        var quick = false

        @Option(help: "How many documents.")
        var count: Int?

        @Option(help: "Write the results as CSV to this file.")
        var csv: String?

        func run() throws {
            let count = self.count ?? (quick ? 20_000 : 100_000)
            MallocInterposerSwift.initialize()
            print("Hydrating \(count) documents of a 10-field model from in-memory BSON (best of 5)...")
            let rows = try HydrationBenchmark(count: count).run()
            let floor = rows[0].nanosecondsPerDocument
            var report = Report(columns: ["mode", "docs", "ns_per_doc", "docs_per_second", "ratio_to_raw", "allocations_per_doc"])
            for row in rows {
                report.append([row.mode, "\(count)", row.nanosecondsPerDocument.formatted(0), (1e9 / row.nanosecondsPerDocument).formatted(0),
                               (row.nanosecondsPerDocument / floor).formatted(2), row.allocationsPerDocument.map { $0.formatted(1) } ?? ""])
            }
            print(report.table)
            if !HydrationBenchmark.countsAllocations {
                print("(allocation counts need the interposer preloaded: run bash Benchmarks/run.sh hydration)")
            }
            try report.writeCSV(to: csv)
        }
    }
}
