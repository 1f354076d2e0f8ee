import Testing
@testable import Service

@Suite struct ServerStateTests {
    @Test func followsTheStartupAndShutdownPath() throws {
        var state = ServerState.starting
        state = try state.after(.transportStarted)
        #expect(state == .loadingModels && !state.isServing)
        state = try state.after(.modelsLoaded)
        #expect(state.isServing)
        state = try state.after(.shutdownRequested)
        #expect(state == .draining)
        state = try state.after(.shutdownRequested)
        #expect(state == .draining)
        state = try state.after(.drained)
        #expect(state == .stopped)
    }

    @Test func refusesEventsOutOfOrder() {
        #expect(throws: ServerState.InvalidTransition.self) { try ServerState.starting.after(.modelsLoaded) }
        #expect(throws: ServerState.InvalidTransition.self) { try ServerState.serving.after(.transportStarted) }
        #expect(throws: ServerState.InvalidTransition.self) { try ServerState.stopped.after(.shutdownRequested) }
    }
}
