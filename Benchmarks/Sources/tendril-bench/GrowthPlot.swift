import Foundation

/// Retained bytes per parent against the number of references, one line per policy, both axes
/// logarithmic: a self-contained SVG that a browser shows. Figures within their noise sit on the
/// floor as hollow dots, under a grey band as high as the largest noise: noise drawn as noise.
struct GrowthPlot {
    let rows: [GrowthBenchmark.Row]
    let pattern: String

    private static let colors = ["strong": "#d62728", "none": "#2ca02c", "lru16": "#1f77b4", "lru64": "#9467bd", "weak": "#ff7f0e"]

    func svg() -> String {
        let width = 720.0, height = 480.0, left = 80.0, right = 130.0, top = 40.0, bottom = 60.0
        let points = rows.filter { $0.pattern == pattern }
        // A floor of 100 B on the y axis: values under it, and noise, sit on the floor.
        let floor = 100.0
        let xs = points.map { Double($0.refs) }, ys = points.map { max($0.retained.bytes, floor) }
        let largestNoise = points.map(\.retained.noise).max() ?? 0
        let xMin = log10(xs.min() ?? 1), xMax = max(log10(xs.max() ?? 10), xMin + 1)
        let yMin = log10(floor), yMax = max(log10(ys.max() ?? floor * 10).rounded(.up), yMin + 1)
        func x(_ value: Double) -> Double { left + (log10(value) - xMin) / (xMax - xMin) * (width - left - right) }
        func y(_ value: Double) -> Double { height - bottom - (log10(max(value, floor)) - yMin) / (yMax - yMin) * (height - top - bottom) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">Bytes a parent retains after resolving N references (\(pattern))</text>

        """
        if largestNoise > floor {
            let bandTop = y(largestNoise)
            svg += "<rect x=\"\(left)\" y=\"\(bandTop)\" width=\"\(width - left - right)\" height=\"\(height - bottom - bandTop)\" fill=\"#eee\"/>"
            svg += "<text x=\"\(width - right - 6)\" y=\"\(bandTop + 14)\" text-anchor=\"end\" fill=\"#888\">noise (±\(HeapFigure.label(largestNoise)))</text>\n"
        }
        for exponent in Int(yMin)...Int(yMax) {
            let value = pow(10, Double(exponent)), position = y(value)
            svg += "<line x1=\"\(left)\" y1=\"\(position)\" x2=\"\(width - right)\" y2=\"\(position)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(position + 4)\" text-anchor=\"end\">\(Self.bytesLabel(value))</text>\n"
        }
        for refs in Set(xs).sorted() {
            let position = x(refs)
            svg += "<line x1=\"\(position)\" y1=\"\(top)\" x2=\"\(position)\" y2=\"\(height - bottom)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(position)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(Int(refs))</text>\n"
        }
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 15)\" text-anchor=\"middle\">references resolved (log scale)</text>\n"
        svg += "<text transform=\"translate(18 \((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">retained bytes per parent (log; noise and ≤ 100 B on the floor)</text>\n"
        for (index, (name, _)) in GrowthBenchmark.policies.enumerated() {
            let line = points.filter { $0.policy == name }.sorted { $0.refs < $1.refs }
            let color = Self.colors[name] ?? "black"
            let path = line.map { "\(x(Double($0.refs))),\(y($0.retained.bytes))" }.joined(separator: " ")
            // Dashed lines for the later policies, so lines lying on each other (none and weak on
            // the floor) both stay visible.
            let dash = index >= 3 ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            for point in line {
                let fill = point.retained.isNoise ? "white\" stroke=\"\(color)" : color
                svg += "<circle cx=\"\(x(Double(point.refs)))\" cy=\"\(y(point.retained.bytes))\" r=\"3\" fill=\"\(fill)\"/>"
            }
            let legendY = top + 20 + Double(index) * 20
            svg += "\n<line x1=\"\(width - right + 15)\" y1=\"\(legendY - 4)\" x2=\"\(width - right + 40)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>"
            svg += "<text x=\"\(width - right + 46)\" y=\"\(legendY)\">\(name)</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func bytesLabel(_ value: Double) -> String {
        switch value {
        case 1e6...: "\(Int(value / 1e6)) MB"
        case 1e3...: "\(Int(value / 1e3)) kB"
        default: "\(Int(value)) B"
        }
    }
}
