import Foundation

/// Rows of a benchmark's results: printed as an aligned table and written as CSV.
struct Report {
    let columns: [String]
    private(set) var rows: [[String]] = []

    init(columns: [String]) {
        self.columns = columns
    }

    init(columns: [String], rows: [[String]]) {
        self.columns = columns
        self.rows = rows
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table, columns padded to their widest cell, numbers (noise, `0 (±300 B)`, included)
    /// right-aligned.
    var table: String {
        let widths = columns.indices.map { column in ([columns[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { index, pair in
                let (cell, width) = pair
                let padding = String(repeating: " ", count: width - cell.count)
                let isNumber = Double(cell) != nil || cell.hasPrefix(HeapFigure.noisePrefix)
                return index == 0 || !isNumber ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        let header = line(columns)
        return ([header, String(repeating: "-", count: header.count)] + rows.map(line)).joined(separator: "\n")
    }

    var csv: String {
        ([columns] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    func writeCSV(to path: String?) throws {
        guard let path else { return }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        print("CSV written to \(path)")
    }
}

extension Double {
    /// The value with `digits` decimals, as the tables and CSV show it.
    func formatted(_ digits: Int) -> String { String(format: "%.\(digits)f", self) }
}
