import Index
import Metrics
import Synchronization

/// Index sizes, read when Prometheus scrapes: rosetta_index_collections and rosetta_index_items{collection};
/// the series of a deleted collection is removed.
final class IndexMetrics: Sendable {
    private let index: any VectorIndex
    private let items = Mutex<[String: Gauge]>([:])
    private let collections = Gauge(label: "rosetta_index_collections")

    init(index: any VectorIndex) { self.index = index }

    func refresh() async {
        // An index that cannot answer now (a database down) keeps the last values.
        guard let infos = try? await index.listCollections() else { return }
        collections.record(infos.count)
        items.withLock { gauges in
            let names = Set(infos.map(\.spec.name))
            for (name, gauge) in gauges where !names.contains(name) {
                gauge.destroy()
                gauges[name] = nil
            }
            for info in infos {
                let gauge = gauges[info.spec.name] ?? Gauge(label: "rosetta_index_items", dimensions: [("collection", info.spec.name)])
                gauges[info.spec.name] = gauge
                gauge.record(info.count)
            }
        }
    }
}
