import Foundation

/// Miss ratio (or, for live rows, queries or bytes retained) against cache size for one
/// workload, one line per policy, the size axis logarithmic: a self-contained SVG that a
/// browser shows.
struct LabPlot {
    let workload: String
    let rows: [LabBenchmark.Row]
    var metric = Metric.missRatio

    /// What the y axis shows.
    enum Metric: String, CaseIterable {
        /// Sim rows' miss ratio (live rows' are equal: the lab checks it).
        case missRatio = "miss-ratio"
        /// Live rows' queries sent.
        case queries
        /// Live rows' heap retained by the parent.
        case retainedBytes = "retained-bytes"

        var mode: String { self == .missRatio ? "sim" : "live" }
        var title: String {
            switch self {
            case .missRatio: "Miss ratio"
            case .queries: "Queries sent (live)"
            case .retainedBytes: "Bytes the parent retains (live, one heap reading: ±2 KB)"
            }
        }

        func value(_ row: LabBenchmark.Row) -> Double {
            switch self {
            case .missRatio: row.missRatio
            case .queries: Double(row.queries ?? 0)
            case .retainedBytes: Double(row.retainedBytes ?? 0)
            }
        }
    }

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]

    func svg() -> String {
        let width = 720.0, height = 480.0, left = 70.0, right = 130.0, top = 40.0, bottom = 60.0
        let points = rows.filter { $0.workload == workload && $0.mode == metric.mode }
        let sizes = Set(points.map(\.capacity)).sorted()
        let xMin = log10(Double(sizes.first ?? 1)), xMax = max(log10(Double(sizes.last ?? 10)), xMin + 1)
        // Miss ratios from 0 to 1; counts and bytes from their least (bytes can be negative) to their most.
        let values = points.map(metric.value)
        let yLow = metric == .missRatio ? 0 : min(values.min() ?? 0, 0)
        let yHigh = metric == .missRatio ? 1 : max(values.max() ?? 1, yLow + 1)
        func x(_ capacity: Int) -> Double { left + (log10(Double(capacity)) - xMin) / (xMax - xMin) * (width - left - right) }
        func y(_ value: Double) -> Double { height - bottom - (value - yLow) / (yHigh - yLow) * (height - top - bottom) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">\(metric.title) against cache size: \(workload)</text>

        """
        for tenth in 0...10 {
            let value = yLow + Double(tenth) / 10 * (yHigh - yLow), position = y(value)
            let label = metric == .missRatio ? value.formatted(1) : "\(Int(value.rounded()))"
            svg += "<line x1=\"\(left)\" y1=\"\(position)\" x2=\"\(width - right)\" y2=\"\(position)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(position + 4)\" text-anchor=\"end\">\(label)</text>\n"
        }
        for size in sizes {
            let position = x(size)
            svg += "<line x1=\"\(position)\" y1=\"\(top)\" x2=\"\(position)\" y2=\"\(height - bottom)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(position)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(size)</text>\n"
        }
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 15)\" text-anchor=\"middle\">cache size, documents (log scale)</text>\n"
        svg += "<text transform=\"translate(14 \((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(metric.rawValue)</text>\n"
        let policies = points.map(\.policy).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for (index, policy) in policies.enumerated() {
            let line = points.filter { $0.policy == policy }.sorted { $0.capacity < $1.capacity }
            let color = Self.palette[index % Self.palette.count]
            // Dashed lines for the later policies, so lines lying on each other stay visible.
            let dash = index >= 3 ? " stroke-dasharray=\"6 4\"" : ""
            let path = line.map { "\(x($0.capacity)),\(y(metric.value($0)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            for point in line {
                svg += "<circle cx=\"\(x(point.capacity))\" cy=\"\(y(metric.value(point)))\" r=\"3\" fill=\"\(color)\"/>"
            }
            let legendY = top + 20 + Double(index) * 20
            svg += "\n<line x1=\"\(width - right + 15)\" y1=\"\(legendY - 4)\" x2=\"\(width - right + 40)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>"
            svg += "<text x=\"\(width - right + 46)\" y=\"\(legendY)\">\(policy)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
