extension ImageResize {
    /// The image resampled to `width` x `height`: the same bytes as `bicubic(_:width:height:)` (Pillow's horizontal
    /// then vertical pass), computed source row by source row. Each source row is resampled horizontally once and
    /// added, weighted, into the output rows whose vertical filter covers it; those fixed-point sums are exact
    /// integers, so the order of the additions does not change a byte.
    ///
    /// Memory beside the source: the horizontal coefficients (O(width·taps_h) = O(width + source width)), the
    /// output, and per output row in progress its vertical coefficients and sums (O(source height / height + 5) and
    /// O(width)); rows in progress at once are at most ~5 when shrinking. Never the width x source-height
    /// intermediate of the two-pass form (224 x 40,000,000 bytes x 3 for a 1 x 40,000,000 image squashed to 224²).
    /// Time O(source rows · width · (taps_h + rows in progress)).
    public static func bicubicStreaming(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        guard height != image.height else { return bicubic(image, width: width, height: height) }
        let horizontalCoefficients = width != image.width ? coefficients(inSize: image.width, outSize: width, for: 0..<width) : nil
        let rowBytes = width * 3
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        // Output rows in progress: their coefficients (one row of the table) and sums.
        var active: [(row: Int, c: Coefficients, sums: [Int64])] = []
        var next = 0
        var pending = coefficients(inSize: image.height, outSize: height, for: 0..<1)
        for y in 0..<image.height {
            // Open every output row whose filter starts at or before this source row.
            while next < height, pending.first[0] <= y {
                active.append((next, pending, [Int64](repeating: 1 << (precisionBits - 1), count: rowBytes)))
                next += 1
                if next < height { pending = coefficients(inSize: image.height, outSize: height, for: next..<(next + 1)) }
            }
            guard active.contains(where: { y < $0.c.first[0] + $0.c.count[0] }) else { continue }
            // This source row, horizontally resampled -> [width, 3]
            let line = horizontalCoefficients.map { horizontal(image, coefficients: $0, rows: y..<(y + 1)).pixels }
                ?? Array(image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            for i in active.indices where y < active[i].c.first[0] + active[i].c.count[0] {
                let w = Int64(active[i].c.weights[y - active[i].c.first[0]])
                active[i].sums.withUnsafeMutableBufferPointer { sums in
                    for j in 0..<rowBytes { sums[j] += Int64(line[j]) * w }
                }
            }
            // Close the rows whose filter ends here.
            active.removeAll { entry in
                guard y + 1 >= entry.c.first[0] + entry.c.count[0] else { return false }
                for j in 0..<rowBytes { out[entry.row * rowBytes + j] = clip8(entry.sums[j]) }
                return true
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
