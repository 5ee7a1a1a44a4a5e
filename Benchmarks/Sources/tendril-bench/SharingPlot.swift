import Foundation

/// Retained heap beside the BSON kept, per policy, as paired bars: a self-contained SVG. A
/// retained figure within its noise is drawn as an empty bar.
struct SharingPlot {
    let rows: [SharingBenchmark.Row]

    func svg() -> String {
        let width = 720.0, height = 420.0, left = 90.0, right = 30.0, top = 50.0, bottom = 60.0
        let largest = max(rows.map { max($0.retained.bytes, Double($0.residentBSONBytes)) }.max() ?? 1, 1)
        let slot = (width - left - right) / Double(max(rows.count, 1)), bar = slot * 0.3
        func y(_ value: Double) -> Double { height - bottom - value / largest * (height - top - bottom) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="15">What \(rows.first?.parents ?? 0) parents retain, sharing \(rows.first?.touched ?? 0) targets</text>
        <rect x="\(width - right - 250)" y="32" width="12" height="12" fill="#d62728"/><text x="\(width - right - 232)" y="42">retained heap</text>
        <rect x="\(width - right - 130)" y="32" width="12" height="12" fill="#1f77b4"/><text x="\(width - right - 112)" y="42">BSON kept</text>

        """
        for fraction in stride(from: 0.0, through: 1.0, by: 0.25) {
            let value = largest * fraction
            svg += "<line x1=\"\(left)\" y1=\"\(y(value))\" x2=\"\(width - right)\" y2=\"\(y(value))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(HeapFigure.label(value))</text>\n"
        }
        for (index, row) in rows.enumerated() {
            let center = left + slot * (Double(index) + 0.5)
            let retained = row.retained.bytes, kept = Double(row.residentBSONBytes)
            let fill = row.retained.isNoise ? "white\" stroke=\"#d62728" : "#d62728"
            svg += "<rect x=\"\(center - bar)\" y=\"\(y(retained))\" width=\"\(bar)\" height=\"\(y(0) - y(retained))\" fill=\"\(fill)\"/>"
            svg += "<rect x=\"\(center)\" y=\"\(y(kept))\" width=\"\(bar)\" height=\"\(y(0) - y(kept))\" fill=\"#1f77b4\"/>"
            svg += "<text x=\"\(center)\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(row.policy)</text>"
            let ratio = kept > 0 ? (retained / kept).formatted(2) + "x" : "-"
            svg += "<text x=\"\(center)\" y=\"\(height - bottom + 34)\" text-anchor=\"middle\" fill=\"#555\">\(ratio)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
