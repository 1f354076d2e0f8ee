import Foundation
import RPC
import Testing
@testable import Service

@Suite struct BearerTokensTests {
    @Test func parsesOneTokenPerLineSkippingBlanksAndComments() {
        let tokens = BearerTokens.parse("# header\n\n  alpha  \r\n#beta\ngamma\n")
        #expect(tokens == [Array("alpha".utf8), Array("gamma".utf8)])
    }

    @Test func acceptsListedTokensOnly() throws {
        let tokens = try BearerTokens(path: try temporaryFile("alpha\ngamma\n"))
        try tokens.authenticate(["authorization": "Bearer alpha"])
        try tokens.authenticate(["authorization": "bearer gamma"])
        #expect(throws: AuthError.missingToken) { try tokens.authenticate([:]) }
        #expect(throws: AuthError.notBearer) { try tokens.authenticate(["authorization": "Basic alpha"]) }
        #expect(throws: AuthError.notBearer) { try tokens.authenticate(["authorization": "Bearer "]) }
        for wrong in ["alph", "alphaa", "alphb", "beta", "Bearer alpha"] {
            #expect(throws: AuthError.invalidToken) { try tokens.authenticate(["authorization": "Bearer \(wrong)"]) }
        }
    }

    @Test func comparesWholeTokens() {
        let token = Array("secret".utf8)
        #expect(BearerTokens.constantTimeEqual(token, token))
        #expect(!BearerTokens.constantTimeEqual(Array("secretsecret".utf8), token))  // a repeat is not the token
        #expect(!BearerTokens.constantTimeEqual([], token))
        #expect(!BearerTokens.constantTimeEqual(token, []))
    }

    @Test func refusesUnusableFiles() throws {
        let empty = try temporaryFile("# none\n\n")
        #expect(throws: AuthError.tokenFileEmpty(path: empty)) { try BearerTokens(path: empty) }
        #expect(throws: AuthError.self) { try BearerTokens(path: "/nonexistent/tokens") }
    }

    @Test func routerRefusesBeforeReadingTheRequest() async throws {
        var router = Router()
        router.errorMapper = { _, error in RPCStatus(mapping: error) }
        router.unary("/t.S/M") { _, _ in Issue.record("handler ran without a token"); return [] }
        router.requireBearerToken(try BearerTokens(path: try temporaryFile("alpha\n")))
        let refused = await router.handle(method: "/t.S/M", requests: [[1, 2, 3]])
        #expect(refused.status.code == .unauthenticated)
        #expect(!refused.status.message.contains("alpha"))
        let unknown = await router.handle(method: "/t.S/Nope", requests: [])
        #expect(unknown.status.code == .unauthenticated)
    }
}
