import Foundation
import Testing
@testable import Service

@Suite struct SettingSourcesTests {
    @Test func environmentBeatsFileBeatsDefault() throws {
        let path = try temporaryFile(#"{"max-batch-items": 64, "threads": 3, "address": ["a:1", "b:2"], "in-memory": true}"#)
        let sources = SettingSources(environment: ["ROSETTA_MAX_BATCH_ITEMS": "8"], arguments: ["server", "--config", path])
        #expect(sources.configPath == path)
        #expect(sources.int("max-batch-items", default: 256) == 8)  // environment
        #expect(sources.int("threads", default: 0) == 3)  // file
        #expect(sources.int("max-collections", default: 1000) == 1000)  // default
        #expect(sources.list("address", default: []) == ["a:1", "b:2"])
        #expect(sources.bool("in-memory", default: false))
        #expect(sources.problems().isEmpty)
    }

    @Test func findsTheConfigFileInEitherSpellingOrTheEnvironment() {
        #expect(SettingSources.configArgument(["s", "--config=/x.json"]) == "/x.json")
        #expect(SettingSources.configArgument(["s", "--threads", "2", "--config", "/y.json"]) == "/y.json")
        #expect(SettingSources.configArgument(["s", "--threads", "2"]) == nil)
        let fromEnvironment = SettingSources(environment: ["ROSETTA_CONFIG": "/nonexistent.json"], arguments: ["s"])
        #expect(fromEnvironment.configPath == "/nonexistent.json")
        #expect(fromEnvironment.problems().first?.contains("cannot read config file /nonexistent.json") == true)
    }

    @Test func anUnparseableEnvironmentNumberIsAProblemNotTheDefault() {
        let sources = SettingSources(
            environment: ["ROSETTA_MAX_BATCH_ITEMS": "lots", "ROSETTA_DRAIN_SECONDS": "nan", "ROSETTA_IN_MEMORY": "maybe"],
            arguments: [])
        #expect(sources.int("max-batch-items", default: 256) == 256)
        _ = sources.double("drain-seconds", default: 10)
        _ = sources.bool("in-memory", default: false)
        #expect(sources.problems() == [
            "ROSETTA_MAX_BATCH_ITEMS='lots' is not a whole number",
            "ROSETTA_DRAIN_SECONDS='nan' is not a number",
            "ROSETTA_IN_MEMORY='maybe' is not true or false (1/0, yes/no)",
        ])
    }

    @Test func unknownKeysAndWrongTypesInTheFileAreProblems() throws {
        let path = try temporaryFile(#"{"max-batch-itemz": 64, "threads": "four", "drain-seconds": 2.5}"#)
        let sources = SettingSources(environment: [:], arguments: ["--config", path])
        #expect(sources.int("threads", default: 0) == 0)
        #expect(sources.double("drain-seconds", default: 10) == 2.5)
        #expect(sources.problems() == [
            "config file \(path): 'threads' must be a whole number, got \"four\"",
            "config file \(path): unknown key 'max-batch-itemz' (keys are the flags' names without '--', e.g. max-batch-items)",
        ])
    }

    @Test func aFileThatIsNotAJSONObjectIsAProblem() throws {
        let path = try temporaryFile("max-batch-items = 64\n")
        let problems = SettingSources(environment: [:], arguments: ["--config", path]).problems()
        #expect(problems.count == 1 && problems[0].hasPrefix("config file \(path) is not a JSON object"))
    }

    @Test func environmentNames() {
        #expect(SettingSources.environmentName(for: "max-batch-items") == "ROSETTA_MAX_BATCH_ITEMS")
        #expect(SettingSources.environmentName(for: "tls-client-ca") == "ROSETTA_TLS_CLIENT_CA")
    }
}
