/// The life of a server process, as an explicit state machine: the transport is up before the models are
/// (so health checks answer NOT_SERVING while they load), and draining refuses new work but lets calls in
/// flight finish.
public enum ServerState: Sendable, Equatable {
    case starting
    case loadingModels
    case serving
    case draining
    case stopped

    public enum Event: Sendable, Equatable {
        case transportStarted
        case modelsLoaded
        case shutdownRequested
        case drained
    }

    public struct InvalidTransition: Error, Equatable {
        public let from: ServerState
        public let event: Event
    }

    /// The state after `event`, or an error when the event cannot happen in this state.
    public func after(_ event: Event) throws(InvalidTransition) -> ServerState {
        switch (self, event) {
        case (.starting, .transportStarted): return .loadingModels
        case (.loadingModels, .modelsLoaded): return .serving
        case (.starting, .shutdownRequested), (.loadingModels, .shutdownRequested), (.serving, .shutdownRequested):
            return .draining
        case (.draining, .shutdownRequested): return .draining
        case (.draining, .drained): return .stopped
        default: throw InvalidTransition(from: self, event: event)
        }
    }

    /// Health checks report SERVING only in this state.
    public var isServing: Bool { self == .serving }
}
