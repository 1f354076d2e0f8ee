import Index
import Logging
import RPC
import Spaces

/// The one place where errors become gRPC statuses. Messages are written for the person reading the
/// client's error: what was wrong, with the values involved, and what is allowed.
extension RPCStatus {
    public init(mapping error: any Error) {
        switch error {
        case let status as RPCStatus:
            self = status
        case let error as ServiceError:
            self = Self.status(for: error)
        case let error as AuthError:
            self = RPCStatus(.unauthenticated, "\(error)")
        default:
            if let status = Self.statusFromLowerModules(error) {
                self = status
            } else {
                self = RPCStatus(.internal, "internal error: \(error)")
            }
        }
    }

    private static func status(for error: ServiceError) -> RPCStatus {
        switch error {
        case let .malformedRequest(message, reason):
            return RPCStatus(.invalidArgument, "request is not a valid \(message): \(reason)")
        case let .invalidArgument(message):
            return RPCStatus(.invalidArgument, message)
        case let .limitExceeded(limit, value, maximum):
            return RPCStatus(.resourceExhausted, "\(limit) is \(value), over the server's limit of \(maximum)")
        case let .modelNotFound(requested, loaded):
            let list = loaded.isEmpty ? "none" : loaded.joined(separator: ", ")
            return RPCStatus(.notFound, "model '\(requested)' is not loaded on this server (loaded: \(list))")
        case let .noModel(modality):
            return RPCStatus(.failedPrecondition, "no \(modality) model is loaded on this server")
        case let .unknownPrompt(name, model, known):
            let list = known.isEmpty ? "it has none" : "known: " + known.joined(separator: ", ")
            return RPCStatus(.invalidArgument, "model '\(model)' has no prompt named '\(name)' (\(list))")
        case let .rawVectorCollection(collection, space, modality):
            return RPCStatus(
                .failedPrecondition,
                "collection '\(collection)' holds raw vectors (space '\(space)') and has no model to embed \(modality) inputs into its space: send vectors, or use a collection created with a model"
            )
        case .notReady:
            return RPCStatus(.unavailable, "the server is still loading its models; retry shortly")
        case let .overloaded(waiting, requested, limit):
            return RPCStatus(
                .resourceExhausted,
                "the server is overloaded: \(waiting) inputs are waiting to be embedded, and this request's \(requested) would pass its queue limit of \(limit) inputs; retry after a short backoff, or raise the limit (rosetta-server --queue-max-items, ROSETTA_QUEUE_MAX_ITEMS) if the server has memory and latency to spare"
            )
        case let .unimplemented(message):
            return RPCStatus(.unimplemented, message)
        case .cancelled:
            return RPCStatus(.cancelled, "the call was cancelled before its work ran")
        }
    }
}

extension RPCStatus {
    /// Errors of the modules below Service that a request can cause. Anything else is a server fault.
    fileprivate static func statusFromLowerModules(_ error: any Error) -> RPCStatus? {
        switch error {
        case let error as SpaceError:
            return status(for: error)
        case let error as IndexError:
            return status(for: error)
        default:
            return InputFault(error).map { fault in
                switch fault {
                case .overLimit(let message): RPCStatus(.resourceExhausted, message)
                case .invalid(let message): RPCStatus(.invalidArgument, message)
                }
            }
        }
    }

    fileprivate static func status(for error: SpaceError) -> RPCStatus {
        switch error {
        case .modalityNotSupported, .noSpeech:
            return RPCStatus(.failedPrecondition, "\(error)")
        case .invalidInput, .instructionTooLong:
            return RPCStatus(.invalidArgument, "\(error)")
        case .abandoned:
            return RPCStatus(.cancelled, "\(error)")
        }
    }
}

extension RPCStatus {
    fileprivate static func status(for error: IndexError) -> RPCStatus {
        switch error {
        case .collectionNotFound:
            return RPCStatus(.notFound, "\(error)")
        case .collectionExists:
            return RPCStatus(.alreadyExists, "\(error)")
        case .invalidCollectionName, .dimensionMismatch, .invalidVector, .invalidItem:
            return RPCStatus(.invalidArgument, "\(error)")
        case .tooManyCollections:
            return RPCStatus(.resourceExhausted, "\(error); delete one first")
        case .spaceMismatch:
            return RPCStatus(.failedPrecondition, "\(error); vectors of different spaces cannot be compared")
        case .outOfSpace:
            // Not transient: a blind retry fails the same way until the operator makes room.
            return RPCStatus(.resourceExhausted, "the disk is full (or the index is at a quota or file-size limit): the write was not applied, nothing of it was stored (\(error)); retry once room is made")
        case .storage, .logFailed:
            // Nothing of the write was acknowledged; the client may retry (after the operator fixes the disk).
            return RPCStatus(.unavailable, "the write was not applied: \(error)")
        case .unavailable:
            return RPCStatus(.unavailable, "\(error); retry shortly")
        case .corrupt, .damagedLog, .backend:
            return RPCStatus(.internal, "\(error)")
        }
    }
}

extension Router {
    /// Every error a handler throws becomes its status through `RPCStatus(mapping:)`; server faults
    /// (INTERNAL) are logged with the method, since the client sees only the message.
    public mutating func mapErrors(logger: Logger) {
        errorMapper = { method, error in
            let status = RPCStatus(mapping: error)
            if status.code == .internal {
                logger.error("handler failed", metadata: ["method": "\(method)", "error": "\(error)"])
            }
            return status
        }
    }
}
