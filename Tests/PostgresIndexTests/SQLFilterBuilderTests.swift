import Domain
import Index
import Testing
@testable import PostgresIndex

/// The metadata filter as SQL: values only ever as bind parameters, placeholders numbered from the given start,
/// and every condition two-valued (so NOT of a condition on a missing key is true, as in memory).
@Suite struct SQLFilterBuilderTests {
    private func sql(_ filter: Filter, modalities: Set<Modality> = [], from first: Int = 1) -> SQLFragment? {
        SQLFilterBuilder.condition(filter: filter, modalities: modalities, firstParameter: first)
    }

    @Test func equalityIsContainmentWithTheValueBound() throws {
        let fragment = try #require(sql(.equals(key: "lang", value: .string("en"))))
        #expect(fragment.sql == "metadata @> $1::jsonb")
        #expect(fragment.values == [.json(#"{"lang":"en"}"#)])
        let number = try #require(sql(.equals(key: "year", value: .number(2001)), from: 3))
        #expect(number.sql == "metadata @> $3::jsonb")
        #expect(number.values == [.json(#"{"year":2001}"#)])
    }

    @Test func hostileKeysAndValuesNeverReachTheSQLText() throws {
        let key = "k'); DROP TABLE rosetta_collections; --"
        let value = "\"}' OR 1=1 --\n\u{1}"
        let fragment = try #require(sql(.all([
            .equals(key: key, value: .string(value)),
            .range(key: key, NumericRange(atLeast: 1)),
            .oneOf(key: key, values: [.string(value)]),
        ])))
        #expect(!fragment.sql.contains("DROP"))
        #expect(!fragment.sql.contains("OR 1=1"))
        #expect(fragment.values.contains(.text(key)))
        #expect(fragment.values.contains(.json(#"{"k'); DROP TABLE rosetta_collections; --":"\"}' OR 1=1 --\n\u0001"}"#)))
    }

    @Test func oneOfIsADisjunctionAndEmptyIsFalse() throws {
        let fragment = try #require(sql(.oneOf(key: "lang", values: [.string("en"), .number(3)])))
        #expect(fragment.sql == "(metadata @> $1::jsonb OR metadata @> $2::jsonb)")
        #expect(fragment.values == [.json(#"{"lang":"en"}"#), .json(#"{"lang":3}"#)])
        #expect(sql(.oneOf(key: "lang", values: []))?.sql == "FALSE")
    }

    @Test func rangeChecksTheKindAndNeverYieldsNull() throws {
        let fragment = try #require(sql(.range(key: "year", NumericRange(greaterThan: 1990, atMost: 2000.5))))
        let number = "CASE WHEN jsonb_typeof(metadata -> $1::text) = 'number' THEN (metadata -> $1::text)::float8 END"
        #expect(fragment.sql == "COALESCE(\(number) IS NOT NULL AND \(number) > $2::float8 AND \(number) <= $3::float8, FALSE)")
        #expect(fragment.values == [.text("year"), .double(1990), .double(2000.5)])
    }

    @Test func combinationsNestAndNumberTheirPlaceholdersInOrder() throws {
        let filter = Filter.any([
            .all([.equals(key: "a", value: .string("x")), .not(.equals(key: "b", value: .number(1)))]),
            .all([]),
            .any([]),
        ])
        let fragment = try #require(sql(filter, from: 5))
        #expect(fragment.sql == "((metadata @> $5::jsonb AND (NOT metadata @> $6::jsonb)) OR TRUE OR FALSE)")
        #expect(fragment.values == [.json(#"{"a":"x"}"#), .json(#"{"b":1}"#)])
    }

    @Test func modalitiesJoinTheFilter() throws {
        let fragment = try #require(SQLFilterBuilder.condition(
            filter: .equals(key: "a", value: .string("x")), modalities: [.text, .image], firstParameter: 2))
        #expect(fragment.sql == "metadata @> $2::jsonb AND modality = ANY($3::smallint[])")
        #expect(fragment.values == [.json(#"{"a":"x"}"#), .smallints([1, 2])])
        #expect(SQLFilterBuilder.condition(filter: nil, modalities: [], firstParameter: 1) == nil)
    }

    @Test func metadataJSONRoundTrips() throws {
        let metadata: Metadata = [
            "s": .string("quote \" backslash \\ tab \t é 😀"), "n": .number(0.1), "big": .number(1e300),
            "neg": .number(-42), "tiny": .number(1e-7),
        ]
        #expect(try MetadataJSON.decode(MetadataJSON.encode(metadata)) == metadata)
        #expect(MetadataJSON.encode(["year": .number(2001)]) == #"{"year":2001}"#)
    }

    @Test func identifiersAreQuoted() {
        #expect(CollectionTable.quoted("a\"b") == "\"a\"\"b\"")
    }

    @Test func configurationParsesURLsAndNamesWhatIsWrong() throws {
        let configuration = try PostgresIndex.Configuration(
            url: "postgres://rosetta:s%40cret@db.example:6543/vectors?hnsw_ef_search=200&pool_size=4&sslmode=disable")
        #expect(configuration.host == "db.example" && configuration.port == 6543)
        #expect(configuration.username == "rosetta" && configuration.password == "s@cret")
        #expect(configuration.database == "vectors" && configuration.poolSize == 4 && configuration.tls == .disable)
        #expect(configuration.hnsw.efSearch == 200 && configuration.hnsw.m == 16)
        for (url, words) in [
            ("mysql://u@h/db", "postgres://"), ("postgres://h/db", "user"), ("postgres://u@h", "database"),
            ("postgres://u@h/db?hnsw_m=1", "hnsw_m"), ("postgres://u@h/db?colour=red", "unknown URL option 'colour'"),
            ("postgres://u@h/db?hnsw_m=64&hnsw_ef_construction=64", "at least 2 * hnsw_m"),
        ] {
            #expect(throws: PostgresIndex.ConfigurationError.self) { try PostgresIndex.Configuration(url: url) }
            do {
                _ = try PostgresIndex.Configuration(url: url)
            } catch {
                #expect(error.description.contains(words), "\(url): \(error)")
            }
        }
    }
}
