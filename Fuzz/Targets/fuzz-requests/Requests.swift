import Foundation
import RosettaAPI
import SwiftProtobuf

/// Requests the fuzz target starts from: the collections every call sees, and one valid request of each
/// kind (the committed seeds, written by `Fuzz/make-seeds`).
struct EncodedRequest {
    var name: String
    var method: String
    var bytes: [UInt8]

    init(_ name: String, _ method: String, _ message: some SwiftProtobuf.Message) {
        self.name = name
        self.method = method
        do { bytes = try message.serializedBytes() } catch { fatalError("fuzz harness: cannot encode \(name): \(error)") }
    }
}

func setupRequests() -> [EncodedRequest] {
    var model = Rosetta_V1_CreateCollectionRequest()
    model.name = "c"
    model.model = "stand-in"
    var raw = Rosetta_V1_CreateCollectionRequest()
    raw.name = "raw"
    raw.dimensions = 4
    raw.storage = .int8
    var upsert = Rosetta_V1_UpsertRequest()
    upsert.collection = "raw"
    upsert.items = (0..<4).map { i in
        var item = Rosetta_V1_Item()
        item.id = "r\(i)"
        item.vector.values = [1, Float(i), 0, -1]
        item.metadata["n"] = .with { $0.numberValue = Double(i) }
        return item
    }
    return [
        EncodedRequest("create-model", "/rosetta.v1.Index/CreateCollection", model),
        EncodedRequest("create-raw", "/rosetta.v1.Index/CreateCollection", raw),
        EncodedRequest("upsert-raw", "/rosetta.v1.Index/Upsert", upsert),
    ]
}

func seedRequests() -> [EncodedRequest] {
    var embed = Rosetta_V1_EmbedRequest()
    embed.inputs = [
        .with { $0.text = "a dog in the snow" },
        .with { $0.image = .with { $0.data = Data([0x89, 0x50, 0x4E, 0x47]); $0.mimeType = "image/png" } },
        .with { $0.audio = .with { $0.data = Data("RIFF".utf8); $0.mimeType = "audio/wav" } },
    ]
    embed.dimensions = 4
    embed.promptName = "query"
    embed.encoding = .int8
    var upsert = Rosetta_V1_UpsertRequest()
    upsert.collection = "c"
    upsert.items = [
        .with { $0.id = "t1"; $0.input = .with { $0.text = "hello" }; $0.metadata["k"] = .with { $0.stringValue = "v" } },
        .with { $0.id = "v1"; $0.vector = .with { $0.values = [Float](repeating: 0.5, count: 8) } },
    ]
    var search = Rosetta_V1_SearchRequest()
    search.collection = "raw"
    search.vector = .with { $0.values = [1, 0, 0, 0] }
    search.topK = 3
    search.minScore = -1
    search.filter = .with {
        $0.all = .with {
            $0.filters = [
                .with { $0.condition = .with { $0.key = "n"; $0.range = .with { $0.gte = 1 } } },
                .with { $0.not = .with { $0.condition = .with { $0.key = "n"; $0.equals = .with { $0.numberValue = 2 } } } },
            ]
        }
    }
    var textSearch = Rosetta_V1_SearchRequest()
    textSearch.collection = "c"
    textSearch.input = .with { $0.text = "snow" }
    textSearch.topK = 5
    var get = Rosetta_V1_GetRequest()
    get.collection = "raw"
    get.ids = ["r1", "nope"]
    get.includeVectors = true
    var delete = Rosetta_V1_DeleteRequest()
    delete.collection = "raw"
    delete.filter = .with { $0.condition = .with { $0.key = "n"; $0.in = .with { $0.values = [.with { $0.numberValue = 3 }] } } }
    return setupRequests() + [
        EncodedRequest("embed", "/rosetta.v1.Embeddings/Embed", embed),
        EncodedRequest("upsert-model", "/rosetta.v1.Index/Upsert", upsert),
        EncodedRequest("search-vector-filter", "/rosetta.v1.Index/Search", search),
        EncodedRequest("search-text", "/rosetta.v1.Index/Search", textSearch),
        EncodedRequest("get", "/rosetta.v1.Index/Get", get),
        EncodedRequest("delete-filter", "/rosetta.v1.Index/Delete", delete),
    ]
}
