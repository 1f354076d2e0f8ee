import Testing
import Domain
import TestSupport
@testable import Index

@Suite struct SearchTests {
    typealias Row = (id: String, vector: [Float], metadata: Metadata, modality: Modality)

    /// Items with metadata to filter on: lang en/fr/de by i % 3, year 1990 + i % 40, modality text/image.
    func rows(count: Int, dimensions d: Int, seed: UInt64) -> [Row] {
        var random = SeededRandom(seed: seed)
        let langs = ["en", "fr", "de"]
        var rows: [Row] = []
        for i in 0..<count {
            let metadata: Metadata = ["lang": .string(langs[i % 3]), "year": .number(Double(1990 + i % 40))]
            let modality: Modality = i % 2 == 0 ? .text : .image
            rows.append((id: "item-\(i)", vector: normalized(random.vector(d)), metadata: metadata, modality: modality))
        }
        return rows
    }

    func index(_ rows: [Row], spec collectionSpec: CollectionSpec, threads: Int = 1) async throws -> LocalIndex {
        var configuration = LocalIndex.Configuration(dataDirectory: nil)
        configuration.searchThreads = threads
        let index = try LocalIndex(configuration)
        _ = try await index.createCollection(collectionSpec)
        for chunk in stride(from: 0, to: rows.count, by: 500) {
            let items = rows[chunk ..< min(chunk + 500, rows.count)].map {
                IndexItem(id: $0.id, vector: $0.vector, metadata: $0.metadata, modality: $0.modality)
            }
            try await index.upsert(items, into: collectionSpec.name)
        }
        return index
    }

    @Test(arguments: [1, 2])
    func exactSearchMatchesNaiveReference(threads: Int) async throws {
        // 20_000 rows: above the parallel threshold, so two workers split the rows and merge their heaps.
        let data = rows(count: 20_000, dimensions: 48, seed: 1)
        let index = try await index(data, spec: spec(dimensions: 48), threads: threads)
        var random = SeededRandom(seed: 2)
        let queries = (0..<5).map { _ in normalized(random.vector(48)) }
        // One batch (SGEMM) and each query alone (SGEMV) give the reference's ranking.
        let batch = try await index.search(queries.map { SearchQuery(vector: $0, topK: 10) }, in: "c")
        for (query, hits) in zip(queries, batch) {
            let truth = naiveTopK(query, items: data, k: 10)
            #expect(hits.map(\.id) == truth.map(\.id))
            for (hit, expected) in zip(hits, truth) { #expect(abs(hit.score - expected.score) < 1e-4) }
            let single = try await index.search([SearchQuery(vector: query, topK: 10)], in: "c")[0]
            #expect(single.map(\.id) == truth.map(\.id))
        }
    }

    /// The int8-sketch pass of a single-query float32 search must not change its answer on data made to
    /// defeat it: exact duplicates (ties across the cutoff), tight clusters (thousands of rows within the
    /// sketch's error of each other), a row with one huge component (a coarse scale, so a wide bound), and
    /// unnormalised vectors and queries under the dot metric. Reference: every row scored in float32.
    @Test(arguments: [1, 2])
    func sketchedSingleQuerySearchIsExact(threads: Int) async throws {
        let d = 40
        var random = SeededRandom(seed: 11)
        var vectors = clusteredVectors(count: 18_000, dimensions: d, clusters: 3, spread: 0.02, seed: 12)
        vectors += Array(repeating: vectors[5], count: 30)
        var spike = vectors[9]
        spike[0] += 25
        vectors.append(spike)
        vectors = vectors.enumerated().map { i, v in v.map { $0 * (1 + Float(i % 7)) } }
        let data: [Row] = vectors.enumerated().map { i, v in
            (id: "item-\(i)", vector: v, metadata: ["lang": .string(i % 2 == 0 ? "en" : "fr")], modality: .text)
        }
        let index = try await index(data, spec: spec(dimensions: d, metric: .dot), threads: threads)
        let queries = [vectors[5], vectors[9], vectors[7_000].map { $0 * 3 }, random.vector(d).map { $0 * 40 }]
        for query in queries {
            for (filter, k) in [(nil, 10), (Filter.equals(key: "lang", value: .string("fr")), 50)] as [(Filter?, Int)] {
                let hits = try await index.search([SearchQuery(vector: query, topK: k, filter: filter)], in: "c")[0]
                let truth = naiveTopK(query, items: data, k: k) { metadata, _ in filter?.matches(metadata) ?? true }
                #expect(hits.count == truth.count)
                for (hit, expected) in zip(hits, truth) {
                    #expect(abs(hit.score - expected.score) <= 1e-4 * max(1, abs(expected.score)))
                }
                // Where scores are not tied, the ids agree too.
                let distinct = zip(hits, truth).filter { hit, expected in
                    truth.filter { abs($0.score - expected.score) <= 1e-3 * max(1, abs(expected.score)) }.count == 1
                }
                for (hit, expected) in distinct { #expect(hit.id == expected.id) }
            }
        }
    }

    @Test func filtersApplyBeforeTopK() async throws {
        let data = rows(count: 3_000, dimensions: 16, seed: 3)
        let index = try await index(data, spec: spec(dimensions: 16))
        var random = SeededRandom(seed: 4)
        let query = normalized(random.vector(16))
        let cases: [Filter] = [
            .equals(key: "lang", value: .string("fr")),
            .oneOf(key: "lang", values: [.string("fr"), .string("de")]),
            .range(key: "year", NumericRange(atLeast: 2000, lessThan: 2005)),
            .all([.equals(key: "lang", value: .string("en")), .range(key: "year", NumericRange(greaterThan: 2025))]),
            .any([.equals(key: "lang", value: .string("de")), .range(key: "year", NumericRange(atMost: 1991))]),
            .not(.equals(key: "lang", value: .string("en"))),
            // A rare match: exactly one year among 40, one language among 3 -> about 25 rows.
            .all([.equals(key: "year", value: .number(1999)), .equals(key: "lang", value: .string("en"))]),
            // Kinds differ: the string "1999" is not the number 1999.
            .equals(key: "year", value: .string("1999")),
            .equals(key: "missing", value: .string("x")),
            .not(.equals(key: "missing", value: .string("x"))),
        ]
        for filter in cases {
            let hits = try await index.search([SearchQuery(vector: query, topK: 20, filter: filter)], in: "c")[0]
            let truth = naiveTopK(query, items: data, k: 20, admit: { m, _ in filter.matches(m) })
            #expect(hits.map(\.id) == truth.map(\.id), "filter \(filter)")
        }
        let images: [SearchHit] = try await index.search([SearchQuery(vector: query, topK: 15, modalities: [Modality.image])], in: "c")[0]
        let imageTruth = naiveTopK(query, items: data, k: 15, admit: { _, modality in modality == Modality.image })
        #expect(images.map { $0.id } == imageTruth.map { $0.id })
        #expect(images.allSatisfy { $0.modality == .image })
    }

    @Test func minScoreDropsWeakHits() async throws {
        let data = rows(count: 500, dimensions: 8, seed: 5)
        let index = try await index(data, spec: spec(dimensions: 8))
        let query = data[7].vector
        let hits = try await index.search([SearchQuery(vector: query, topK: 100, minScore: 0.5)], in: "c")[0]
        #expect(hits.first?.id == "item-7")
        #expect(hits.allSatisfy { $0.score >= 0.5 })
        #expect(hits.map(\.id) == naiveTopK(query, items: data, k: 100, minScore: 0.5).map(\.id))
    }

    @Test func upsertReplacesAndDeleteSwapRemoves() async throws {
        var data = rows(count: 1_000, dimensions: 8, seed: 6)
        let index = try await index(data, spec: spec(dimensions: 8))
        // Replace item-3's vector and metadata.
        var random = SeededRandom(seed: 7)
        let replacement = normalized(random.vector(8))
        try await index.upsert([IndexItem(id: "item-3", vector: replacement, metadata: ["lang": .string("xx")], modality: .text)], into: "c")
        data[3] = (id: "item-3", vector: replacement, metadata: ["lang": .string("xx")], modality: .text)
        #expect(try await index.collection("c").count == 1_000)
        // Delete a scattered third by id and everything "de" by filter, then compare with the reference.
        let doomed = stride(from: 0, to: 1_000, by: 3).map { "item-\($0)" } + ["never-there"]
        #expect(try await index.delete(ids: doomed, from: "c") == 334)
        let de = try await index.delete(matching: .equals(key: "lang", value: .string("de")), from: "c")
        data = data.filter { row in !doomed.contains(row.id) }
        #expect(de == data.filter { $0.metadata["lang"] == .string("de") }.count)
        data = data.filter { $0.metadata["lang"] != .string("de") }
        #expect(try await index.collection("c").count == data.count)
        for seed in 0..<5 as Range<UInt64> {
            var random = SeededRandom(seed: 100 + seed)
            let query = normalized(random.vector(8))
            let hits = try await index.search([SearchQuery(vector: query, topK: 25)], in: "c")[0]
            #expect(hits.map(\.id) == naiveTopK(query, items: data, k: 25).map(\.id))
        }
        let (found, missing) = try await index.get(ids: ["item-1", "item-3", "item-4"], from: "c", includeVectors: true)
        #expect(found.map(\.id) == ["item-1", "item-4"] && missing == ["item-3"])
        #expect(found[0].vector == data.first { $0.id == "item-1" }!.vector)
    }

    @Test func prepareChecksDimensionsSpaceAndTruncates() throws {
        let model = spec(dimensions: 4, model: "m", modelDimensions: 8, space: "space-a")
        // Matryoshka: a full 8-d model vector is cut to 4 and renormalised.
        let prepared = try model.prepare([3, 4, 0, 0, 9, 9, 9, 9])
        #expect(prepared == [0.6, 0.8, 0, 0])
        #expect(try model.prepare([0, 2, 0, 0]) == [0, 1, 0, 0])
        #expect(throws: IndexError.dimensionMismatch(collection: "c", expected: [4, 8], actual: 5)) { try model.prepare([1, 2, 3, 4, 5]) }
        #expect(throws: IndexError.spaceMismatch(collection: "c", collectionSpace: "space-a", otherSpace: "space-b")) {
            try model.prepare([1, 0, 0, 0], space: "space-b")
        }
        #expect(throws: IndexError.self) { try model.prepare([0, 0, 0, 0]) }
        #expect(throws: IndexError.self) { try model.prepare([.nan, 0, 0, 1]) }
        // Dot metric on raw vectors: used as given.
        let raw = spec(dimensions: 2, metric: .dot)
        #expect(try raw.prepare([3, 4]) == [3, 4])
    }

    /// Components whose squares overflow or underflow float32 still give unit vectors in their direction
    /// (once they stored [0, 0, 0, 0] with OK, or were refused as all zeros); stored and queried alike.
    @Test(arguments: [Storage.float32, .int8, .binary])
    func extremeVectorsAreStoredAndFoundAtUnitLength(storage: Storage) async throws {
        let collection = spec(dimensions: 4, storage: storage)
        let smallest = Float.leastNonzeroMagnitude  // 1e-45 as float32
        let sent: [(id: String, vector: [Float], unit: [Float])] = [
            ("huge", [1e20, 1e20, 1e20, 1e20], [0.5, 0.5, 0.5, 0.5]),
            ("axis", [1e30, 0, 0, 0], [1, 0, 0, 0]),
            ("tiny", [0, 1e-30, 0, 0], [0, 1, 0, 0]),
            ("subnormal", [0, 0, smallest, 0], [0, 0, 1, 0]),
            ("mixed", [1e25, 0, 0, -1e25], [0.70710677, 0, 0, -0.70710677]),
        ]
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil))
        _ = try await index.createCollection(collection)
        let items = try sent.map { IndexItem(id: $0.id, vector: try collection.prepare($0.vector), metadata: [:], modality: .vector) }
        for (item, expected) in zip(items, sent) {
            #expect(item.vector == expected.unit || zip(item.vector, expected.unit).allSatisfy { abs($0 - $1) < 1e-6 }, "\(expected.id)")
        }
        try await index.upsert(items, into: "c")

        let tolerance: Float = storage == .float32 ? 1e-6 : 1e-2
        let (stored, _) = try await index.get(ids: sent.map(\.id), from: "c", includeVectors: true)
        for (got, expected) in zip(stored, sent) {
            #expect(zip(got.vector ?? [], expected.unit).allSatisfy { abs($0 - $1) <= tolerance }, "\(expected.id) stored as \(got.vector ?? [])")
        }
        for expected in sent {
            let query = try collection.prepare(expected.vector)
            let hits = try await index.search([SearchQuery(vector: query, topK: 5)], in: "c")[0]
            #expect(hits.first?.id == expected.id)
            #expect(abs((hits.first?.score ?? 0) - 1) <= tolerance, "\(expected.id): \(hits)")
        }
        // The probe's query: every hit once scored 0.
        let hits = try await index.search([SearchQuery(vector: try collection.prepare([1e30, 0, 0, 0]), topK: 5)], in: "c")[0]
        let scores = Dictionary(uniqueKeysWithValues: hits.map { ($0.id, $0.score) })
        #expect(abs((scores["axis"] ?? 0) - 1) <= tolerance && abs((scores["huge"] ?? 0) - 0.5) <= tolerance)
        #expect(abs((scores["mixed"] ?? 0) - 0.70710677) <= tolerance && abs(scores["tiny"] ?? 1) <= tolerance)
    }

    @Test func collectionNamesAndLimits() async throws {
        var configuration = LocalIndex.Configuration(dataDirectory: nil)
        configuration.maxCollections = 2
        let index = try LocalIndex(configuration)
        for bad in ["", "-x", "a b", "ü", String(repeating: "a", count: 129)] {
            await #expect(throws: IndexError.self) { _ = try await index.createCollection(spec(bad, dimensions: 2)) }
        }
        _ = try await index.createCollection(spec("a.b_c-1", dimensions: 2))
        await #expect(throws: IndexError.collectionExists("a.b_c-1")) { _ = try await index.createCollection(spec("a.b_c-1", dimensions: 2)) }
        _ = try await index.createCollection(spec("second", dimensions: 2))
        await #expect(throws: IndexError.tooManyCollections(limit: 2)) { _ = try await index.createCollection(spec("third", dimensions: 2)) }
        try await index.deleteCollection("second")
        await #expect(throws: IndexError.collectionNotFound("second")) { try await index.deleteCollection("second") }
        await #expect(throws: IndexError.dimensionMismatch(collection: "a.b_c-1", expected: [2], actual: 3)) {
            try await index.upsert([IndexItem(id: "x", vector: [1, 0, 0])], into: "a.b_c-1")
        }
        #expect(await index.listCollections().map(\.spec.name) == ["a.b_c-1"])
    }

    @Test func concurrentUpsertsAndSearchesLoseNothing() async throws {
        let index = try LocalIndex(LocalIndex.Configuration(dataDirectory: nil))
        _ = try await index.createCollection(spec(dimensions: 16))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var random = SeededRandom(seed: UInt64(writer))
                    for batch in 0..<25 {
                        let items = (0..<20).map { i in
                            IndexItem(id: "w\(writer)-\(batch)-\(i)", vector: normalized(random.vector(16)))
                        }
                        try await index.upsert(items, into: "c")
                    }
                }
            }
            for reader in 0..<4 {
                group.addTask {
                    var random = SeededRandom(seed: 1_000 + UInt64(reader))
                    for _ in 0..<50 {
                        let hits = try await index.search([SearchQuery(vector: normalized(random.vector(16)), topK: 10)], in: "c")[0]
                        #expect(Set(hits.map(\.id)).count == hits.count)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await index.collection("c").count == 4 * 25 * 20)
    }

    @Test func topKHeapKeepsTheBest() {
        var random = SeededRandom(seed: 9)
        let scores = (0..<1_000).map { _ in random.float() }
        var heap = TopK(k: 7)
        for (row, score) in scores.enumerated() { heap.push(score, row: row) }
        #expect(heap.sorted().map(\.score) == Array(scores.sorted(by: >).prefix(7)))
    }
}
