/// The cosine of the angle between `a` and `b`, accumulated in Double so that the rounding of a long sum does not
/// blur a 0.9999 threshold. Both must have the same length and a non-zero norm.
public func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var (dot, na, nb) = (0.0, 0.0, 0.0)
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y)
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}
