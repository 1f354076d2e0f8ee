import Domain
import RPC
import RosettaAPI
import Spaces

extension Rosetta_V1_ItemStatus {
    init(_ error: any Error) {
        let status = RPCStatus(mapping: error)
        self.init()
        code = status.code.rawValue
        message = status.message
    }
}

extension Rosetta_V1_Modality {
    init(_ kind: Rosetta_V1_Input.OneOf_Kind?) {
        switch kind {
        case .text: self = .text
        case .image: self = .image
        case .audio: self = .audio
        case nil: self = .unspecified
        }
    }
}

extension Rosetta_V1_Pooling {
    init(_ pooling: Pooling) {
        switch pooling {
        case .mean: self = .mean
        case .cls: self = .cls
        case .instruction: self = .instruction
        }
    }
}

extension Rosetta_V1_ModelInfo {
    init(_ model: SpaceDescription) {
        self.init()
        id = model.id
        architecture = model.architecture
        modalities = model.modalities.map(Rosetta_V1_Modality.init)
        dimensions = UInt32(model.dimensions)
        maxTokens = UInt32(model.maxTokens)
        space = model.space
        defaultPooling = Rosetta_V1_Pooling(model.defaultPooling)
        promptNames = model.promptNames
        isDefault = model.isDefault
        maxInstructionTokens = UInt32(model.maxInstructionTokens)
        loadSeconds = model.loadSeconds
        loadResidentBytes = UInt64(max(0, model.loadResidentBytes))
        if let scale = model.logitScale { logitScale = scale }
        if let bias = model.logitBias { logitBias = bias }
    }
}

extension Rosetta_V1_Limits {
    init(_ limits: ServiceLimits) {
        self.init()
        maxMessageBytes = UInt64(limits.maxMessageBytes)
        maxBatchItems = UInt32(limits.maxBatchItems)
        maxTextChars = UInt32(limits.maxTextCharacters)
        maxImagePixels = UInt64(limits.maxImagePixels)
        maxAudioSeconds = Float(limits.maxAudioSeconds)
        maxTopK = UInt32(limits.maxTopK)
        maxMetadataBytes = UInt32(limits.maxMetadataBytes)
        maxCollections = UInt32(limits.maxCollections)
        maxConcurrentStreams = UInt32(limits.maxConcurrentStreams)
        maxMetadataKeys = UInt32(limits.maxMetadataKeys)
        maxIDBytes = UInt32(limits.maxIDBytes)
        maxAudioSampleRate = UInt32(limits.maxAudioSampleRate)
    }
}
