import ArgumentParser
import Foundation
import Tendril

/// `tendril-bench`: the benchmarks behind every speed and memory claim Tendril makes.
@main
struct TendrilBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tendril-bench",
        abstract: "Tendril's benchmarks: parent growth, hydration from the server, query counts and long reference lists.",
        subcommands: [Growth.self, HydrateFromServer.self, Queries.self, Scale.self, Soak.self, Lab.self, Sharing.self, Overhead.self]
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
            BenchEnvironment.ensureServer(disablingThreadCache: true)
            let sizes = options.quick ? [10, 200] : [1, 10, 50, 200, 1000]
            print("Parent growth: a person with N friends (200-character bios), each friend resolved once")
            print("and its name read, keeping only the parent. N = \(sizes.map(String.init).joined(separator: ", ")).")
            let rows = try await BenchEnvironment.withDatabase { database, recorder in
                try await GrowthBenchmark(sizes: sizes).run(in: database, recorder: recorder)
            }
            let report = Report(columns: GrowthBenchmark.columns, rows: rows.map(\.cells))
            print(report.table)
            print("""
                retained_bytes: live heap (glibc mallinfo2, tcache off) after the first pass minus right after \
                loading the parents, per parent: the median of \(GrowthBenchmark.readingsPerRow) readings of \
                \(GrowthBenchmark.parentsPerReading) parents each. 0 (±x): within the noise (the larger of a single \
                reading's ±2 KB shared among its parents and of half the readings' spread).
                """)
            try report.writeCSV(to: options.csv)
            if let plot {
                let svg = GrowthPlot(rows: rows, pattern: "one_by_one").svg()
                try svg.write(toFile: plot, atomically: true, encoding: .utf8)
                print("Plot written to \(plot)")
            }
        }
    }

    struct Sharing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What many parents sharing their targets retain: per-parent caches, a reference pool, bytes kept.")

        @OptionGroup var options: CommonOptions

        @Option(help: "Draw retained bytes beside the BSON kept, per policy, into this SVG file.")
        var plot: String?

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: true)
            let benchmark = SharingBenchmark(parents: options.quick ? 20 : 100, refsPerParent: 200, uniqueTargets: 1_000)
            print("Sharing: \(benchmark.parents) parents each resolving \(benchmark.refsPerParent) references drawn (seeded)")
            print("from \(benchmark.uniqueTargets) targets, every target's name read, the parents kept.")
            let rows = try await BenchEnvironment.withDatabase { database, recorder in
                try await benchmark.run(in: database, recorder: recorder)
            }
            let report = Report(columns: SharingBenchmark.columns, rows: rows.map(\.cells))
            print(report.table)
            for row in rows where row.residentBSONBytes > 0 {
                print("\(row.policy): retains \((row.retained.bytes / Double(row.residentBSONBytes)).formatted(2))x the BSON it keeps")
            }
            print("""
                unique targets touched: \(rows.first?.touched ?? 0). retained_bytes: live heap (glibc mallinfo2, tcache off) \
                after resolving every list minus before, all parents together (and the pool): the median of \
                \(SharingBenchmark.readingsPerRow) readings.
                """)
            try report.writeCSV(to: options.csv)
            if let plot {
                try SharingPlot(rows: rows).svg().write(toFile: plot, atomically: true, encoding: .utf8)
                print("Plot written to \(plot)")
            }
        }
    }

    struct Overhead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What one kept document costs against its BSON, for classes of 5, 7 and 20 fields.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: true)
            let benchmark = OverheadBenchmark(count: options.quick ? 500 : 2_000)
            print("Per-document cost: \(benchmark.count) documents of each class (200-character bio, 5 tags) held at once.")
            let rows = try await BenchEnvironment.withDatabase { database, _ in try await benchmark.run(in: database) }
            let report = Report(columns: OverheadBenchmark.columns, rows: rows.map(\.cells))
            print(report.table)
            print("""
                Bytes per document: live heap (glibc mallinfo2, tcache off) while \(benchmark.count) are held, minus \
                before, divided by \(benchmark.count); the median of \(OverheadBenchmark.readingsPerRow) readings. \
                bson_storage: the BSON as a document keeps it; object: a new instance (no BSON); query_result: \
                documents a query returned; strong_kept: documents a parent's .strong cache keeps (one batch); \
                strong_ratio: strong_kept / bson_bytes.
                """)
            try report.writeCSV(to: options.csv)
        }
    }

    struct HydrateFromServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hydrate", abstract: "Documents per CPU-second loading documents from the server.")

        @OptionGroup var options: CommonOptions

        @Option(help: "Only these modes, comma-separated (raw always runs: it is the floor).")
        var modes: String?

        private var selected: Set<String>? {
            modes.map { Set($0.split(separator: ",").map(String.init) + ["raw"]) }
        }

        func validate() throws {
            let unknown = (selected ?? []).subtracting(HydrateBenchmark.modeNames)
            guard unknown.isEmpty else {
                throw ValidationError("unknown mode(s) \(unknown.sorted().joined(separator: ", ")); modes: \(HydrateBenchmark.modeNames.joined(separator: ", "))")
            }
        }

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: false)
            let count = options.quick ? 20_000 : 100_000
            print("Loading \(count) documents of a 10-field model from the server (CPU time of this process).")
            let rows = try await BenchEnvironment.withDatabase { database, _ in
                try await HydrateBenchmark(count: count, selectedModes: selected).run(in: database, uri: try BenchEnvironment.uri())
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
            abstract: "The N+1 experiment: queries sent by lazy, batched and prefetched resolution (batches of 1,000 and the default 100), and by the plain lazy loop under .peers and .one.")

        @OptionGroup var options: CommonOptions

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: false)
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
            // Peak heap in a table of its own: the CSV keeps its columns.
            var heap = Report(columns: ["mode", "parents", "peak_heap_bytes"])
            for row in rows { heap.append([row.mode, "\(row.parents)", "\(row.peakHeapBytes)"]) }
            print(heap.table)
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Visiting every reference of a parent with N references: one by one, as a sequence, whole.")

        @OptionGroup var options: CommonOptions

        @Option(help: "Numbers of references, comma-separated, e.g. 1000,100_000 (default 1000,10_000,100_000,800_000; --quick: 1000,10_000,100_000).")
        var refs: String?

        private var sizes: [Int] {
            get throws {
                guard let refs else { return options.quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 800_000] }
                // Sizes are comma-separated, so a size groups its digits with underscores (100_000).
                let parts = refs.split(separator: ",")
                let sizes = parts.compactMap { Int($0.filter { $0 != "_" }) }
                guard !sizes.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ $0 > 0 }) else {
                    throw ValidationError("--refs takes positive numbers, comma-separated: \(refs)")
                }
                return sizes
            }
        }

        func validate() throws {
            for size in try sizes where ScaleBenchmark.parentByteCount(refs: size) > ScaleBenchmark.documentLimit {
                throw ValidationError("""
                    \(size) references do not fit in one BSON document: \(ScaleBenchmark.parentByteCount(refs: size)) bytes, \
                    over MongoDB's 16 MiB (at most about 840,000 ObjectIds in one array)
                    """)
            }
        }

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: true)
            let sizes = try self.sizes
            let valueAtLimit = ScaleBenchmark.valueAtLimit(quick: options.quick)
            let valueAtSizes = sizes.filter { $0 <= valueAtLimit }
            print("Scale: a parent with N references under .none, every friend visited and its name read.")
            print("""
                N = \(sizes.map(String.init).joined(separator: ", ")); value_at (one query per reference) only up to \
                \(valueAtLimit): N = \(valueAtSizes.map(String.init).joined(separator: ", ")).
                """)
            if !options.quick && refs == nil {
                print("The full run stops at 800,000 references: 1,000,000 ObjectIds do not fit in one 16 MiB BSON document.")
            }
            let rows = try await BenchEnvironment.withDatabase { database, counter in
                try await ScaleBenchmark(sizes: sizes, valueAtLimit: valueAtLimit).run(in: database, counter: counter)
            }
            let report = Report(columns: ScaleBenchmark.columns, rows: rows.map(\.cells))
            print(report.table)
            print("""
                heap_min_bytes/heap_max_bytes: heap in use (glibc mallinfo2, tcache off) sampled while iterating, \
                minus the live heap just after loading the parent.
                """)
            for line in ScaleBenchmark.verdicts(rows) { print(line) }
            try report.writeCSV(to: options.csv)
        }
    }

    struct Soak: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cycles of find, dereference (every cache policy), update, insert and delete: nothing may accumulate.")

        @OptionGroup var options: CommonOptions

        @Option(help: "How many cycles (default 10,000; --quick: 2,000).")
        var cycles: Int?

        func run() async throws {
            BenchEnvironment.ensureServer(disablingThreadCache: true)
            let cycles = self.cycles ?? (options.quick ? 2_000 : 10_000)
            print("Soak: \(cycles) cycles of find, dereference (strong, none, lru, lru by bytes, weak in turn),")
            print("save, insert and delete; live documents and live heap after a warm-up and at the end.")
            let outcome = try await BenchEnvironment.withDatabase { database, counter in
                try await SoakBenchmark(cycles: cycles).run(in: database, counter: counter)
            }
            var report = Report(columns: SoakBenchmark.columns)
            report.append(outcome.cells)
            print(report.table)
            try report.writeCSV(to: options.csv)
            // Live documents must come back exactly; the heap within a page's worth of allocator
            // noise (glibc keeps small free lists even with tcache off).
            let heapTolerance = 16 * 1024
            guard outcome.liveEnd == outcome.liveStart, outcome.heapGrowth <= heapTolerance else {
                print("FAILED: live documents \(outcome.liveStart) -> \(outcome.liveEnd), heap grew \(outcome.heapGrowth) bytes (tolerance \(heapTolerance))")
                throw ExitCode(1)
            }
            print("OK: live documents back to \(outcome.liveStart), heap grew \(outcome.heapGrowth) bytes (tolerance \(heapTolerance)).")
        }
    }

    struct Lab: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cache-policy experiments: miss ratio against cache size, per workload and policy (sim mode: no server).")

        @OptionGroup var options: CommonOptions

        @Option(help: "Workloads, comma-separated: zipf0.8, zipf1.0, zipf1.2, scan, shift, onehit (default all; --quick: zipf1.0).")
        var workloads: String?

        @Option(help: "Replay this trace instead (one id per line, any token).")
        var trace: String?

        @Option(help: "Policies, comma-separated (default every built-in and registered one: lru, sieve, s3fifo, strong, none, weak, ttl, fifo).")
        var policies: String?

        @Option(help: "Cache sizes as fractions of the distinct ids, comma-separated (default 0.001,0.01,0.1,0.5).")
        var fractions: String = "0.001,0.01,0.1,0.5"

        @Option(help: "Budgets in documents (count) or in BSON bytes (bytes: the same number of documents' bytes).")
        var budget: String = "count"

        @Option(help: "Accesses per generated workload (default 1,000,000; --quick: 200,000).")
        var accesses: Int?

        @Option(help: "Distinct ids per generated workload (default 100,000; --quick: 20,000).")
        var ids: Int?

        @Option(help: "The generators' seed.")
        var seed: UInt64 = 17

        @Option(help: "Write one SVG per workload (miss ratio against cache size) into this directory.")
        var plot: String?

        @Option(help: "sim (no server), live (the live traces through a real parent against the server, checked against sim) or both (default sim; --quick: both).")
        var mode: String?

        @Option(help: "Accesses per live trace (default 20,000; --quick: 5,000): each miss is a query.")
        var liveAccesses: Int?

        @Option(help: "Distinct ids per live trace (default 2,000; --quick: 1,000), seeded as documents.")
        var liveIDs: Int?

        func run() async throws {
            let mode = self.mode ?? (options.quick ? "both" : "sim")
            guard ["sim", "live", "both"].contains(mode) else { throw ValidationError("--mode sim, live or both: \(mode)") }
            guard mode == "sim" || budget == "count" else { throw ValidationError("live mode sweeps budgets by count only") }
            if mode != "sim" { BenchEnvironment.ensureServer(disablingThreadCache: true) }
            let budget = try LabBenchmark.Budget(rawValue: self.budget).unwrapped("--budget count or bytes")
            let fractions = fractions.split(separator: ",").compactMap { Double($0) }
            guard !fractions.isEmpty, fractions.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
                throw ValidationError("--fractions takes numbers in (0, 1], comma-separated: \(self.fractions)")
            }
            let known = LabPolicy.all
            let names = policies.map { $0.split(separator: ",").map(String.init) } ?? known.map(\.name)
            let selected = try names.map { name in try known.first { $0.name == name }.unwrapped("policy \(name)") }
            let accesses = self.accesses ?? (options.quick ? 200_000 : 1_000_000)
            let ids = self.ids ?? (options.quick ? 20_000 : 100_000)
            let requested = self.workloads.map { $0.split(separator: ",").map(String.init) }
            let workloads: [LabWorkload], liveWorkloads: [LabWorkload]
            if let trace {
                workloads = [try LabWorkload.read(traceFile: trace)]
                liveWorkloads = workloads
            } else {
                let names = requested ?? (options.quick ? ["zipf1.0"] : LabWorkload.builtInNames)
                workloads = try names.map { try LabWorkload.generate($0, accesses: accesses, ids: ids, seed: seed) }
                // Smaller traces, named apart: each live miss is a query.
                liveWorkloads = try (requested ?? ["zipf1.0"]).map { name in
                    let workload = try LabWorkload.generate(name, accesses: liveAccesses ?? (options.quick ? 5_000 : 20_000),
                                                            ids: liveIDs ?? (options.quick ? 1_000 : 2_000), seed: seed)
                    return LabWorkload(name: name + "-live", accesses: workload.accesses, idBound: workload.idBound)
                }
            }
            print("Cache-policy lab (sim: each policy's storage driven directly, no server; documents of \(LabSimulation.documentBytes) bytes).")
            var rows: [LabBenchmark.Row] = []
            var disagreements: [String] = []
            if mode != "live" {
                for workload in workloads {
                    print("\(workload.name): \(workload.accesses.count) accesses to \(workload.distinctIDs) distinct ids.")
                }
                rows += LabBenchmark(workloads: workloads, policies: selected, fractions: fractions, budget: budget).simulate()
            }
            if mode != "sim" {
                let liveFractions = options.quick ? [0.01, 0.1] : fractions
                for workload in liveWorkloads {
                    print("live: \(workload.name), \(workload.accesses.count) accesses to \(workload.distinctIDs) distinct ids, "
                        + "through a real parent (one query per miss), and the same trace in sim.")
                }
                let lab = LabBenchmark(workloads: liveWorkloads, policies: selected, fractions: liveFractions, budget: .count)
                let sim = lab.simulate()
                let live = try await BenchEnvironment.withDatabase { database, recorder in
                    try await lab.live(in: database, recorder: recorder)
                }
                rows += sim + live
                disagreements = LabBenchmark.disagreements(live: live, sim: sim)
                if disagreements.isEmpty {
                    print("Checked: for all \(live.count) live rows, live misses = sim misses = queries sent.")
                } else {
                    print("FAILED: live and sim disagree:\n" + disagreements.joined(separator: "\n"))
                }
            }
            let report = Report(columns: LabBenchmark.columns, rows: rows.map(\.cells))
            print(report.table)
            try report.writeCSV(to: options.csv)
            if let plot {
                try FileManager.default.createDirectory(atPath: plot, withIntermediateDirectories: true)
                var plots = (mode == "live" ? [] : workloads).map { LabPlot(workload: $0.name, rows: rows) }
                if mode != "sim" {
                    for workload in liveWorkloads where trace == nil || mode == "live" {
                        plots.append(LabPlot(workload: workload.name, rows: rows))
                    }
                    for workload in liveWorkloads {
                        plots.append(LabPlot(workload: workload.name, rows: rows, metric: .queries))
                        plots.append(LabPlot(workload: workload.name, rows: rows, metric: .retainedBytes))
                    }
                }
                for plotted in plots {
                    let suffix = plotted.metric == .missRatio ? "" : "-" + plotted.metric.rawValue
                    let path = URL(fileURLWithPath: plot).appendingPathComponent("lab-\(plotted.workload)\(suffix).svg").path
                    try plotted.svg().write(toFile: path, atomically: true, encoding: .utf8)
                    print("Plot written to \(path)")
                }
            }
            if !disagreements.isEmpty { throw ExitCode(1) }
        }
    }
}
