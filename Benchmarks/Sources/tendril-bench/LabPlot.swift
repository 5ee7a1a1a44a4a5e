import Foundation

/// Miss ratio against cache size for one workload, one line per policy, the size axis
/// logarithmic: a self-contained SVG that a browser shows.
struct LabPlot {
    let workload: String
    let rows: [LabBenchmark.Row]

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]

    func svg() -> String {
        let width = 720.0, height = 480.0, left = 70.0, right = 130.0, top = 40.0, bottom = 60.0
        // Live rows' misses equal the sim rows' (the lab checks it): the sim rows are drawn.
        let points = rows.filter { $0.workload == workload && $0.mode == "sim" }
        let sizes = Set(points.map(\.capacity)).sorted()
        let xMin = log10(Double(sizes.first ?? 1)), xMax = max(log10(Double(sizes.last ?? 10)), xMin + 1)
        func x(_ capacity: Int) -> Double { left + (log10(Double(capacity)) - xMin) / (xMax - xMin) * (width - left - right) }
        func y(_ ratio: Double) -> Double { height - bottom - ratio * (height - top - bottom) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">Miss ratio against cache size: \(workload)</text>

        """
        for tenth in 0...10 {
            let ratio = Double(tenth) / 10, position = y(ratio)
            svg += "<line x1=\"\(left)\" y1=\"\(position)\" x2=\"\(width - right)\" y2=\"\(position)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(position + 4)\" text-anchor=\"end\">\(ratio.formatted(1))</text>\n"
        }
        for size in sizes {
            let position = x(size)
            svg += "<line x1=\"\(position)\" y1=\"\(top)\" x2=\"\(position)\" y2=\"\(height - bottom)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(position)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(size)</text>\n"
        }
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 15)\" text-anchor=\"middle\">cache size, documents (log scale)</text>\n"
        svg += "<text transform=\"translate(18 \((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">miss ratio</text>\n"
        let policies = points.map(\.policy).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for (index, policy) in policies.enumerated() {
            let line = points.filter { $0.policy == policy }.sorted { $0.capacity < $1.capacity }
            let color = Self.palette[index % Self.palette.count]
            // Dashed lines for the later policies, so lines lying on each other stay visible.
            let dash = index >= 3 ? " stroke-dasharray=\"6 4\"" : ""
            let path = line.map { "\(x($0.capacity)),\(y($0.missRatio))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            for point in line {
                svg += "<circle cx=\"\(x(point.capacity))\" cy=\"\(y(point.missRatio))\" r=\"3\" fill=\"\(color)\"/>"
            }
            let legendY = top + 20 + Double(index) * 20
            svg += "\n<line x1=\"\(width - right + 15)\" y1=\"\(legendY - 4)\" x2=\"\(width - right + 40)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>"
            svg += "<text x=\"\(width - right + 46)\" y=\"\(legendY)\">\(policy)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
