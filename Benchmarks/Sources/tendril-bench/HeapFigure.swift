/// A live-heap figure per parent: the median of several readings and its noise, shown as noise
/// when it lies within it (`0 (±300 B)`), so a reading's jitter never reads as retention, least
/// of all as negative retention.
struct HeapFigure {
    /// The median reading, in bytes.
    let median: Double
    /// How far a reading may stray with nothing retained: the larger of a floor (a reading's
    /// known noise) and of half the readings' spread.
    let noise: Double

    /// How a figure within its noise starts, in the table and the CSV.
    static let noisePrefix = "0 (±"

    init(readings: [Double], floor: Double) {
        let sorted = readings.sorted()
        let middle = sorted.count / 2
        switch sorted.count {
        case 0: median = 0
        case let count where count.isMultiple(of: 2): median = (sorted[middle - 1] + sorted[middle]) / 2
        default: median = sorted[middle]
        }
        noise = max(floor, ((sorted.last ?? 0) - (sorted.first ?? 0)) / 2)
    }

    /// Whether the figure cannot be told from nothing.
    var isNoise: Bool { abs(median) <= noise }

    /// The figure, 0 when it is noise (what the plot draws).
    var bytes: Double { isNoise ? 0 : median }

    /// The table's and the CSV's cell: whole bytes, or `0 (±300 B)`.
    var cell: String { isNoise ? Self.noisePrefix + Self.label(noise) + ")" : "\(Int(median.rounded()))" }

    /// The figure per one of `count` things (bytes per reference), noise divided alike.
    func cell(per count: Int) -> String {
        let share = Double(max(count, 1))
        return isNoise ? Self.noisePrefix + Self.label(noise / share) + ")" : (median / share).formatted(1)
    }

    /// `12 B`, `0.4 B`, `1.8 KB`.
    static func label(_ bytes: Double) -> String {
        switch bytes {
        case 1000...: "\((bytes / 1000).formatted(1)) KB"
        case 10...: "\(Int(bytes.rounded())) B"
        default: "\(bytes.formatted(1)) B"
        }
    }
}
