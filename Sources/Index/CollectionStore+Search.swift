import Tensor

/// Exact search: every row is scored (SGEMM for a batch, over blocks of rows split across workers; up to a few
/// queries go through the int8 sketch first, see CollectionStore+BoundedSearch), and each query keeps its top k
/// in a heap. A row is admitted to a heap only when it passes the query's filter and modality test, so filters
/// act before top-k (a filtered query still gets k hits when k rows match); the filter is evaluated only for
/// rows whose score would enter the heap, which keeps filtered searches nearly as fast as unfiltered ones.
///
/// Binary storage ranks rows by Hamming distance first and re-ranks the closest candidates (see BinaryRows).
extension CollectionStore {
    /// Tuning for search; the defaults are the measured choices of bench/search.
    struct SearchTuning: Sendable {
        /// Workers for one search (rows split between them).
        var threads: Int = 1
        /// Rows scored per BLAS call: scores for a batch of 32 queries stay in L2 (32 x 2048 x 4 bytes).
        var blockRows = 2048
        /// Below this many rows one worker does it all (thread hand-off costs more than it saves).
        var parallelRows = 16_384
        /// Up to this many queries, float32 storage is searched query by query through its int8 sketch
        /// (CollectionStore+BoundedSearch); a larger batch is one SGEMM, which reads the rows once for all.
        var boundedMaxQueries = 4
        /// Binary storage re-ranks max(k * rerankFactor, minCandidates) Hamming candidates.
        var rerankFactor = 10
        var minCandidates = 100
    }

    func search(_ queries: [SearchQuery], tuning: SearchTuning) -> [[SearchHit]] {
        lock.withReadLock {
            guard !ids.isEmpty else { return queries.map { _ in [] } }
            let ranked: [[(score: Float, row: Int)]]
            if let binary = rows as? BinaryRows {
                ranked = queries.map { binarySearch($0, binary, tuning: tuning) }
            } else if let float32 = rows as? Float32Rows, queries.count <= tuning.boundedMaxQueries {
                ranked = queries.map { boundedSearch($0, float32, tuning: tuning) }
            } else {
                ranked = exactSearch(queries, tuning: tuning)
            }
            return zip(queries, ranked).map { query, hits in
                hits.map { hit in
                    SearchHit(id: ids[hit.row], score: hit.score, metadata: metadata[hit.row],
                              modality: modalities[hit.row], vector: query.includeVectors ? rows.vector(hit.row) : nil,
                              preview: query.includePreviews && spec.keepPreviews ? previews[hit.row] : nil)
                }
            }
        }
    }

    /// Must be called under the read lock.
    private func exactSearch(_ queries: [SearchQuery], tuning: SearchTuning) -> [[(score: Float, row: Int)]] {
        let n = ids.count
        let nq = queries.count
        let flat = queries.flatMap(\.vector)
        let parts = Parallel.blocks(n, parts: n >= tuning.parallelRows ? tuning.threads : 1, align: 64)
        var heaps = [TopK](repeating: TopK(k: 0), count: parts.count * nq)
        heaps.withUnsafeMutableBufferPointer { buffer in
            let out = SharedPointer(base: buffer.baseAddress!)
            Parallel.forEach(parts.count) { worker in
                var local = queries.map { TopK(k: $0.topK) }
                var scores = [Float](repeating: 0, count: nq * tuning.blockRows)
                var scratch: [Float] = []
                let part = parts[worker]
                for start in stride(from: part.lowerBound, to: part.upperBound, by: tuning.blockRows) {
                    let block = start ..< min(start + tuning.blockRows, part.upperBound)
                    scores.withUnsafeMutableBufferPointer { s in
                        flat.withUnsafeBufferPointer { q in
                            rows.scores(queries: q.baseAddress!, count: nq, rows: block, into: s.baseAddress!,
                                        scratch: &scratch)
                        }
                        for (qi, query) in queries.enumerated() {
                            consider(s.baseAddress! + qi * block.count, rows: block, query: query, into: &local[qi])
                        }
                    }
                }
                for qi in 0..<nq { out.base[worker * nq + qi] = local[qi] }
            }
        }
        return (0..<nq).map { qi in
            var merged = TopK(k: queries[qi].topK)
            for worker in parts.indices { merged.merge(heaps[worker * nq + qi]) }
            return merged.sorted()
        }
    }

    @inline(__always)
    private func consider(_ scores: UnsafePointer<Float>, rows block: Range<Int>, query: SearchQuery, into heap: inout TopK) {
        let minScore = query.minScore ?? -.infinity
        let filtered = query.isFiltered
        for j in 0..<block.count {
            let score = scores[j]
            guard score > heap.threshold, score >= minScore else { continue }
            let row = block.lowerBound + j
            if filtered && !query.admits(metadata[row], modalities[row]) { continue }
            heap.push(score, row: row)
        }
    }

    /// Hamming pre-filter, then int8 re-rank of the closest candidates. Must be called under the read lock.
    private func binarySearch(_ query: SearchQuery, _ binary: BinaryRows, tuning: SearchTuning) -> [(score: Float, row: Int)] {
        let n = ids.count
        let d = spec.dimensions
        let wanted = min(n, max(query.topK * tuning.rerankFactor, tuning.minCandidates))
        let queryBits = BinaryRows.signBits(query.vector)
        var distances = [UInt16](repeating: 0, count: n)
        let excluded = UInt16(d + 1)
        distances.withUnsafeMutableBufferPointer { buffer in
            let out = SharedPointer(base: buffer.baseAddress!)
            let parts = Parallel.blocks(n, parts: n >= tuning.parallelRows ? tuning.threads : 1, align: 64)
            Parallel.forEach(parts.count) { worker in
                let part = parts[worker]
                binary.hamming(queryBits, rows: part, into: out.base + part.lowerBound)
                if query.isFiltered {
                    for row in part where !query.admits(metadata[row], modalities[row]) { out.base[row] = excluded }
                }
            }
        }
        // The distance cutoff that yields `wanted` candidates: a histogram over 0...d instead of a sort.
        var histogram = [Int](repeating: 0, count: d + 2)
        for distance in distances { histogram[Int(distance)] += 1 }
        var cutoff = 0
        var taken = 0
        while cutoff <= d && taken + histogram[cutoff] < wanted {
            taken += histogram[cutoff]
            cutoff += 1
        }
        var atCutoff = wanted - taken
        let minScore = query.minScore ?? -.infinity
        var heap = TopK(k: query.topK)
        query.vector.withUnsafeBufferPointer { q in
            for row in 0..<n {
                let distance = Int(distances[row])
                guard distance <= cutoff, distance <= d else { continue }
                if distance == cutoff {
                    guard atCutoff > 0 else { continue }
                    atCutoff -= 1
                }
                let score = binary.rerank.score(q.baseAddress!, row: row)
                if score >= minScore { heap.push(score, row: row) }
            }
        }
        return heap.sorted()
    }
}
