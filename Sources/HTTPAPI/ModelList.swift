import RosettaAPI
import Service

/// `GET /v1/models` in OpenAI's list format (`{"object": "list", "data": [{"id", "object": "model", "created",
/// "owned_by"}]}`), each model with Rosetta's own fields too: modalities, dimensions, space, max_tokens,
/// max_instruction_tokens, default_pooling, prompt_names and is_default (what Info reports over gRPC).
enum ModelList {
    static func json(_ info: Rosetta_V1_InfoResponse) -> String {
        JSONValue.object([("object", .string("list")), ("data", .array(info.models.map(entry)))]).serialized
    }

    static func model(named id: String, in info: Rosetta_V1_InfoResponse) throws(ServiceError) -> String {
        guard let model = info.models.first(where: { $0.id == id }) else {
            throw .modelNotFound(requested: id, loaded: info.models.map(\.id))
        }
        return entry(model).serialized
    }

    private static func entry(_ model: Rosetta_V1_ModelInfo) -> JSONValue {
        .object([
            ("id", .string(model.id)), ("object", .string("model")), ("created", .number(0)),
            ("owned_by", .string("rosetta")),
            ("modalities", .array(model.modalities.map { .string(name($0)) })),
            ("dimensions", .number(Double(model.dimensions))), ("space", .string(model.space)),
            ("max_tokens", .number(Double(model.maxTokens))),
            ("max_instruction_tokens", .number(Double(model.maxInstructionTokens))), ("architecture", .string(model.architecture)),
            ("default_pooling", .string(name(model.defaultPooling))),
            ("prompt_names", .array(model.promptNames.map(JSONValue.string))), ("is_default", .bool(model.isDefault)),
        ])
    }

    private static func name(_ modality: Rosetta_V1_Modality) -> String {
        switch modality {
        case .text: "text"
        case .image: "image"
        case .audio: "audio"
        case .vector: "vector"
        case .unspecified, .UNRECOGNIZED: "unspecified"
        }
    }

    private static func name(_ pooling: Rosetta_V1_Pooling) -> String {
        switch pooling {
        case .mean: "mean"
        case .cls: "cls"
        case .instruction: "instruction"
        case .default, .UNRECOGNIZED: "default"
        }
    }
}
