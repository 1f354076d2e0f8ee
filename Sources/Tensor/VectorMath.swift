/// Vectorised elementwise math on 16 floats (one AVX-512 register): exp, erf, and row reductions.
///
/// Swift has no vector exp/erf, and calling libm per element is the scalar loop the hot paths must avoid.
/// These are the standard polynomial forms: exp as Cephes `expf` (range reduction by ln 2, degree-5 polynomial,
/// |rel err| < 2e-7), erf as Eigen's `generic_fast_erf_float` rational approximation (|err| < 2e-7 on [-4, 4],
/// erf = ±1 beyond in float precision).
public typealias Vec16 = SIMD16<Float>

@usableFromInline let vecWidth = 16

/// e^x for each lane; inputs below -87.3 give 0 (used for masked / very negative softmax inputs).
@inline(__always)
func vexp(_ x: Vec16) -> Vec16 {
    let lowLimit = Vec16(repeating: -87.3), highLimit = Vec16(repeating: 88.3)
    let zeroMask = x .< lowLimit
    let xc = vclamp(x, lowLimit, highLimit)
    // n = round(x / ln 2) via the 1.5·2^23 trick (exact rounding, no float->int conversion).
    let magic = Vec16(repeating: 12_582_912.0)
    let t = xc * 1.442_695_040_888_963_4 + magic
    let n = t - magic
    // r = x - n ln 2, with ln 2 split in two for precision.
    var r = xc - n * 0.693_359_375
    r = r - n * -2.121_944_400_546_905_8e-4
    var p = Vec16(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    // 2^n by writing n + 127 into the exponent field; n is in the low bits of t's mantissa.
    let nBits = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- unsafeBitCast(magic, to: SIMD16<UInt32>.self)
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: Vec16.self)
    return (p * scale).replacing(with: 0, where: zeroMask)
}

/// erf(x) for each lane.
@inline(__always)
func verf(_ x: Vec16) -> Vec16 {
    let xc = vclamp(x, Vec16(repeating: -4), Vec16(repeating: 4))
    let x2 = xc * xc
    var p = Vec16(repeating: -2.726_142_258_013_06e-10)
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 + -2.101_024_020_825_08e-06
    p = p * x2 + -5.692_506_394_623_46e-05
    p = p * x2 + -7.349_906_303_268_55e-04
    p = p * x2 + -2.954_599_808_540_25e-03
    p = p * x2 + -1.609_603_332_624_15e-02
    p = p * xc
    var q = Vec16(repeating: -1.456_607_184_649_96e-05)
    q = q * x2 + -2.133_740_552_789_05e-04
    q = q * x2 + -1.682_826_974_382_03e-03
    q = q * x2 + -7.373_329_167_204_68e-03
    q = q * x2 + -1.426_473_905_141_89e-02
    return p / q
}

/// Lane-wise max(lo, min(x, hi)). Written with `replacing(with:where:)`, which compiles to compare + blend;
/// the stdlib's generic `pointwiseMin`/`pointwiseMax` compile to a per-lane scalar loop (seen in perf).
@inline(__always)
func vclamp(_ x: Vec16, _ lo: Vec16, _ hi: Vec16) -> Vec16 {
    x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
}

@inline(__always)
func vmax(_ a: Vec16, _ b: Vec16) -> Vec16 { a.replacing(with: b, where: b .> a) }

/// Loads `count` (< 16) floats, filling the other lanes with `fill`.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float) -> Vec16 {
    var v = Vec16(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the first `count` (< 16) lanes of `v`.
@inline(__always)
func storePartial(_ v: Vec16, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> Vec16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
}

@inline(__always)
func store16(_ v: Vec16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec16.self)
}

/// Applies `f` to `count` floats from `src` into `dst` (which may equal `src`), 16 at a time.
@inline(__always)
func mapVector(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
               _ f: (Vec16) -> Vec16) {
    var i = 0
    while i + vecWidth <= count {
        store16(f(load16(src + i)), dst + i)
        i += vecWidth
    }
    if i < count { storePartial(f(loadPartial(src + i, count - i, fill: 0)), dst + i, count - i) }
}
