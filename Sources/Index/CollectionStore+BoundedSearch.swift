import Tensor

/// Exact search for one query that reads a quarter of the bytes: a first pass over the int8 sketch of the
/// float32 rows, then float32 scores only for the rows that can still be in the top k.
///
/// One query is memory-bound: SGEMV streams 4d bytes per row for one multiply-add each. The sketch holds each
/// row as codes with v[i] = (code[i] + e[i])·scale, |e[i]| <= 1/2, so its score s̃ is within
/// bound = ‖q‖₁·scale/2 of the float32 score s (plus float rounding, covered by a small relative margin).
/// Every row therefore has s in [s̃ − bound, s̃ + bound]. Let T be the k-th largest lower bound among admitted
/// rows: at least k rows score >= T, so no row whose upper bound is below T can be in the top k. The rows with
/// upper bound >= T are re-scored in float32 and ranked — the same top k as scoring every row in float32
/// (ties at float precision aside). On real embeddings the band is a few dozen rows; on adversarial data it only
/// grows the re-score list, never changes the answer.
extension CollectionStore {
    /// Must be called under the read lock.
    func boundedSearch(_ query: SearchQuery, _ rows: Float32Rows, tuning: SearchTuning) -> [(score: Float, row: Int)] {
        let n = ids.count
        let d = spec.dimensions
        // ‖q‖₁/2 per unit of scale, widened by the float rounding of two d-term sums, the sketch's and the
        // float32 score's (each |error| <= d·ulp·Σ|terms| <= d·ulp·127.5·scale·‖q‖₁).
        let l1 = query.vector.reduce(Float(0)) { $0 + abs($1) }
        let boundPerScale = l1 * (0.5 + 255 * Float(d) * Float.ulpOfOne)
        let minScore = query.minScore ?? -.infinity
        let parts = Parallel.blocks(n, parts: n >= tuning.parallelRows ? tuning.threads : 1, align: 64)
        var lowerBounds = [TopK](repeating: TopK(k: 0), count: parts.count)
        var candidates = [[(upper: Float, row: Int)]](repeating: [], count: parts.count)
        lowerBounds.withUnsafeMutableBufferPointer { lows in
            candidates.withUnsafeMutableBufferPointer { found in
                let (lowOut, foundOut) = (SharedPointer(base: lows.baseAddress!), SharedPointer(base: found.baseAddress!))
                Parallel.forEach(parts.count) { worker in
                    var kth = TopK(k: query.topK)
                    var kept: [(upper: Float, row: Int)] = []
                    var approximate = [Float](repeating: 0, count: tuning.blockRows)
                    let part = parts[worker]
                    query.vector.withUnsafeBufferPointer { q in
                        approximate.withUnsafeMutableBufferPointer { s in
                            for start in stride(from: part.lowerBound, to: part.upperBound, by: tuning.blockRows) {
                                let block = start ..< min(start + tuning.blockRows, part.upperBound)
                                rows.sketch.scores(q.baseAddress!, rows: block, into: s.baseAddress!)
                                for j in 0..<block.count {
                                    let row = block.lowerBound + j
                                    let bound = boundPerScale * rows.sketch.scale(row: row)
                                    let upper = s[j] + bound
                                    guard upper >= kth.threshold, upper >= minScore else { continue }
                                    if query.isFiltered && !query.admits(metadata[row], modalities[row]) { continue }
                                    kept.append((upper, row))
                                    kth.push(s[j] - bound, row: row)
                                }
                            }
                        }
                    }
                    lowOut.base[worker] = kth
                    foundOut.base[worker] = kept
                }
            }
        }
        var kth = TopK(k: query.topK)
        for heap in lowerBounds { kth.merge(heap) }
        var best = TopK(k: query.topK)
        query.vector.withUnsafeBufferPointer { q in
            for part in candidates {
                for (upper, row) in part where upper >= kth.threshold {
                    let score = rows.score(q.baseAddress!, row: row)
                    if score >= minScore { best.push(score, row: row) }
                }
            }
        }
        return best.sorted()
    }
}
