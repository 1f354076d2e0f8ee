/// The k best (score, row) pairs seen so far: a binary min-heap of size k, so that each new score costs one
/// comparison against the current k-th best (`threshold`) and a log k sift only when it gets in.
struct TopK: Sendable {
    let k: Int
    private(set) var scores: [Float] = []
    private(set) var rows: [Int] = []
    /// The score a candidate must beat to get in: the worst kept score once k are kept.
    private(set) var threshold: Float = -.infinity

    init(k: Int) {
        self.k = k
        scores.reserveCapacity(k)
        rows.reserveCapacity(k)
    }

    @inline(__always)
    mutating func push(_ score: Float, row: Int) {
        if scores.count < k {
            scores.append(score)
            rows.append(row)
            siftUp(scores.count - 1)
            if scores.count == k { threshold = scores[0] }
        } else if k > 0 && score > threshold {
            scores[0] = score
            rows[0] = row
            siftDown(0)
            threshold = scores[0]
        }
    }

    mutating func merge(_ other: TopK) {
        for i in other.scores.indices { push(other.scores[i], row: other.rows[i]) }
    }

    /// Best first; equal scores by row.
    func sorted() -> [(score: Float, row: Int)] {
        zip(scores, rows).map { (score: $0, row: $1) }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard scores[child] < scores[parent] else { return }
            scores.swapAt(child, parent)
            rows.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < scores.count else { return }
            let right = left + 1
            let smaller = right < scores.count && scores[right] < scores[left] ? right : left
            guard scores[smaller] < scores[parent] else { return }
            scores.swapAt(smaller, parent)
            rows.swapAt(smaller, parent)
            parent = smaller
        }
    }
}
