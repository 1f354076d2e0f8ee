import FuzzSupport
import Tensor

/// The safetensors loader on a whole file: the u64 header length, the JSON header (dtypes, shapes,
/// data_offsets, overlap checks, __metadata__), then every tensor read as floats. Any input must load or
/// give a `SafeTensorsError`; a tensor that loads has exactly its shape's element count.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = FuzzSupport.scratch + "/input.safetensors"
    FuzzSupport.write(UnsafeBufferPointer(start: data, count: size), to: path)
    guard let file = try? SafeTensors(path: path) else { return 0 }
    for name in file.names {
        guard let entry = try? file.entry(name), let tensor = try? file.tensor(name) else { continue }
        precondition(tensor.count == entry.shape.reduce(1, *), "tensor \(name) has the wrong element count")
    }
    return 0
}
