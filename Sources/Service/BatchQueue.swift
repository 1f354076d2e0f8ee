import Spaces
/// The inputs waiting for a forward pass, and the rules that pick the next forward from them. Plain
/// bookkeeping with no thread and no clock of its own: `BatchScheduler` keeps it under its lock and passes the
/// time in; tests drive it directly.
///
/// The rules, in the order `next(at:)` applies them:
/// 1. **Order**: the oldest waiting input (the seed) is in the next forward, so inputs are served in arrival
///    order across models and options, and none waits behind an endless stream of others.
/// 2. **Merging**: only inputs with the seed's key (same model, equal options) join it.
/// 3. **Budget**: at most `maxItems` inputs, `maxTokens` estimated tokens and `maxRequests` requests per
///    forward. The seed always runs, even when it alone is over the token budget.
/// 4. **Length bucketing**: when more inputs wait than one forward takes, the ones whose estimated length is
///    closest to the seed's join first (ties: oldest first). The text encoder packs sequences without padding,
///    so grouping does not change the FLOPs of the queue as a whole; what it changes is who waits. Short texts
///    share forwards with short texts (many requests finish per forward, and the encoder's chunks and
///    attention scratch stay balanced), and a burst of long texts does not hold a short request back for
///    more than the forwards ahead of it.
/// 5. **Waiting to fill**: a forward that has room (within its budget, nothing left out) waits for more requests only when there is evidence of
///    concurrent load: the key's previous forward merged `n` >= 2 requests and fewer than `n` are waiting
///    now. It then waits until `n` requests are there, the budget is full, or the seed has waited
///    `maxDelay`, whichever comes first. A lone sequential client (its previous forward held one request)
///    never waits, and when load drops, at most one forward pays the delay before the evidence resets.
/// 6. **Running alone**: a request that finds nothing waiting and no such evidence for its key, and that fits
///    one forward's budget (rule 3) and the queue, need not queue at all (`mayRunAlone`); `BatchScheduler` then
///    runs it on the thread that received it.
struct BatchQueue {
    /// Which requests may share a forward: the same model (by id and space fingerprint) with equal options.
    struct Key: Hashable, Sendable {
        let model: String
        let space: String
        let options: EmbeddingOptions

        init(model: SpaceDescription, options: EmbeddingOptions) {
            self.model = model.id
            self.space = model.space
            self.options = options
        }
    }

    /// One input waiting for a forward: input `position` of request `request`.
    struct Item: Equatable, Sendable {
        let request: Int
        let position: Int
        let key: Key
        let cost: Int
        let enqueued: ContinuousClock.Instant
    }

    /// The inputs of one forward, all of one key, the seed first.
    struct Batch: Sendable {
        let key: Key
        let items: [Item]
        /// How many different requests the items come from.
        let requests: Int
    }

    enum Next: Sendable {
        /// Nothing waits.
        case idle
        /// Inputs wait, but the forward may fill: ask again at this time, or when a request arrives.
        case wait(until: ContinuousClock.Instant)
        /// Run these now (they have left the queue).
        case run(Batch)
    }

    let settings: BatchSettings
    /// In arrival order.
    private(set) var waiting: [Item] = []
    /// Requests merged by each key's previous forward, kept only when several were (the evidence of rule 5).
    private var recentRequests: [Key: Int] = [:]
    /// Keys remembered at most; past it the evidence starts over (many keys each with concurrent load is rare:
    /// free-text instructions make a key per text, but those are not merged anyway).
    private static let maxRememberedKeys = 64

    init(settings: BatchSettings) {
        self.settings = settings
    }

    var waitingItems: Int { waiting.count }

    /// Queues the inputs of one request (their estimated costs, in order), or refuses all of them when they
    /// would take the queue past `maxQueuedItems`.
    mutating func admit(request: Int, key: Key, costs: [Int], at now: ContinuousClock.Instant) throws(ServiceError) {
        guard waiting.count + costs.count <= settings.maxQueuedItems else {
            throw .overloaded(waiting: waiting.count, requested: costs.count, limit: settings.maxQueuedItems)
        }
        for (position, cost) in costs.enumerated() {
            waiting.append(Item(request: request, position: position, key: key, cost: cost, enqueued: now))
        }
    }

    /// Whether a request of `key` whose inputs have these estimated costs may skip the queue and run at once,
    /// alone, as one forward (rule 6).
    func mayRunAlone(_ key: Key, costs: [Int]) -> Bool {
        let fits = costs.count == 1 || (costs.count <= settings.maxItems && costs.reduce(0, +) <= settings.maxTokens)
        return waiting.isEmpty && recentRequests[key] == nil && fits && costs.count <= settings.maxQueuedItems
    }

    /// Drops the waiting inputs of `request` (cancelled); returns how many there were.
    @discardableResult
    mutating func remove(request: Int) -> Int {
        let before = waiting.count
        waiting.removeAll { $0.request == request }
        return before - waiting.count
    }

    /// The next forward to run, or how long to wait for one (rules 1-5 above).
    mutating func next(at now: ContinuousClock.Instant) -> Next {
        guard let seed = waiting.first else { return .idle }
        let candidates = waiting.indices.filter { waiting[$0].key == seed.key }
        let chosen = choose(from: candidates)
        let requests = Set(chosen.map { waiting[$0].request }).count
        let tokens = chosen.reduce(0) { $0 + waiting[$1].cost }
        let full = chosen.count < candidates.count || chosen.count >= settings.maxItems || tokens >= settings.maxTokens
            || (settings.maxRequests > 0 && requests >= settings.maxRequests)
        let deadline = seed.enqueued + settings.maxDelay
        if !full, requests < recentRequests[seed.key, default: 1], now < deadline {
            return .wait(until: deadline)
        }
        let items = chosen.map { waiting[$0] }
        let taken = Set(chosen)
        waiting = waiting.indices.filter { !taken.contains($0) }.map { waiting[$0] }
        remember(requests, for: seed.key)
        return .run(Batch(key: seed.key, items: items, requests: requests))
    }

    /// Indices into `waiting` of the next forward's inputs: the seed (`candidates[0]`), then the others by
    /// closeness of estimated length, within the budget.
    private func choose(from candidates: [Int]) -> [Int] {
        let seed = waiting[candidates[0]]
        let others = candidates.dropFirst().sorted { a, b in
            let (da, db) = (abs(waiting[a].cost - seed.cost), abs(waiting[b].cost - seed.cost))
            return da != db ? da < db : a < b
        }
        var chosen = [candidates[0]]
        var tokens = seed.cost
        var requests: Set<Int> = [seed.request]
        for index in others {
            guard chosen.count < settings.maxItems else { break }
            let item = waiting[index]
            guard tokens + item.cost <= settings.maxTokens else { continue }
            let newRequest = !requests.contains(item.request)
            if newRequest, settings.maxRequests > 0, requests.count >= settings.maxRequests { continue }
            chosen.append(index)
            tokens += item.cost
            requests.insert(item.request)
        }
        return chosen.sorted()
    }

    private mutating func remember(_ requests: Int, for key: Key) {
        if requests < 2 {
            recentRequests[key] = nil
            return
        }
        if recentRequests[key] == nil, recentRequests.count >= Self.maxRememberedKeys {
            recentRequests.removeAll()
        }
        recentRequests[key] = requests
    }
}
