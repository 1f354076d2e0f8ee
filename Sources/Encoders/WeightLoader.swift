import Tensor

/// Strict, prefix-scoped access to checkpoint tensors (as candle's `VarBuilder.pp`): keys are built by appending
/// path components, every tensor's shape is checked, and `finish()` names whatever the checkpoint holds that no
/// one asked for. Dense layers are packed in the loader's `precision` (as a VarBuilder's dtype).
struct WeightLoader {
    let file: SafeTensors
    let prefix: String
    let precision: Precision
    private let used: UsedKeys

    final class UsedKeys { var names: Set<String> = [] }

    init(file: SafeTensors, prefix: String = "", precision: Precision = .float32) {
        self.init(file: file, prefix: prefix, precision: precision, used: UsedKeys())
    }

    private init(file: SafeTensors, prefix: String, precision: Precision, used: UsedKeys) {
        self.file = file
        self.prefix = prefix
        self.precision = precision
        self.used = used
    }

    /// The loader for keys under `component` (e.g. `pp("encoder").pp("layer").pp(3)`).
    func pp(_ component: String) -> WeightLoader {
        WeightLoader(file: file, prefix: prefix + component + ".", precision: precision, used: used)
    }

    func pp(_ index: Int) -> WeightLoader { pp(String(index)) }

    func contains(_ name: String) -> Bool { file.entries[prefix + name] != nil }

    /// The tensor `prefix + name`, which must have `shape`.
    func tensor(_ name: String, shape: [Int]) throws(EncoderError) -> Tensor {
        let key = prefix + name
        guard let entry = file.entries[key] else { throw .missingTensor(file: file.path, tensor: key) }
        guard entry.shape == shape else {
            throw .shapeMismatch(file: file.path, tensor: key, expected: shape, actual: entry.shape)
        }
        used.names.insert(key)
        do { return try file.tensor(key) } catch { throw .weights(error) }
    }

    /// A linear layer's W [dOut, dIn] and b packed in `precision`.
    func linear(weight: Tensor, bias: Tensor?) throws(EncoderError) -> LinearWeights {
        do { return try LinearWeights(weight: weight, bias: bias, precision: precision) } catch { throw .tensor(error) }
    }

    /// The linear layer under this prefix: `weight` [dOut, dIn] and (with `bias`) `bias` [dOut], packed.
    func linear(_ dOut: Int, _ dIn: Int, bias: Bool = true) throws(EncoderError) -> LinearWeights {
        try linear(weight: try tensor("weight", shape: [dOut, dIn]), bias: bias ? try tensor("bias", shape: [dOut]) : nil)
    }

    /// The LayerNorm under this prefix: `weight` and `bias` [d].
    func layerNorm(_ d: Int) throws(EncoderError) -> (Tensor, Tensor) {
        (try tensor("weight", shape: [d]), try tensor("bias", shape: [d]))
    }

    /// A convolution's W [cOut, cIn, kh, kw] and b packed in `precision`.
    func convolution(weight: Tensor, bias: Tensor?) throws(EncoderError) -> ConvWeights {
        do { return try ConvWeights(weight: weight, bias: bias, precision: precision) } catch { throw .tensor(error) }
    }

    /// Marks `prefix + name` as known but unused (e.g. a pooler head or an integer buffer), if present.
    func ignore(_ name: String) {
        if file.entries[prefix + name] != nil { used.names.insert(prefix + name) }
    }

    /// Throws if the checkpoint holds tensors that were neither loaded nor ignored.
    func finish() throws(EncoderError) {
        let unknown = file.names.filter { !used.names.contains($0) }
        guard unknown.isEmpty else {
            throw .unexpectedTensors(file: file.path, expectedCount: used.names.count,
                                     actualCount: file.entries.count, names: unknown)
        }
    }
}
