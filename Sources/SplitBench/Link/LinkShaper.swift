import Split

/// When each chunk of a byte stream leaves an emulated link: a token bucket for the bandwidth
/// cap, then a one-way delay with seeded jitter, never reordering (TCP is a stream, so a chunk
/// cannot overtake the one before it). Pure arithmetic on nanosecond timestamps, so it can be
/// tested without sockets or clocks.
struct LinkShaper: Sendable {
    private let delayNanoseconds: Double
    private let jitterNanoseconds: Double
    private let bytesPerNanosecond: Double?
    private let burstBytes: Double
    private var random: SplitMix64
    private var tokens: Double
    private var lastRefill: UInt64 = 0
    private var lastDeparture: UInt64 = 0
    private var lastDelivery: UInt64 = 0

    /// A shaper for one direction of a link.
    init(delaySeconds: Double, jitterSeconds: Double, bandwidthBitsPerSecond: Double?, burstBytes: Int, seed: UInt64) {
        delayNanoseconds = max(0, delaySeconds) * 1e9
        jitterNanoseconds = max(0, jitterSeconds) * 1e9
        bytesPerNanosecond = bandwidthBitsPerSecond.map { $0 / 8 / 1e9 }
        self.burstBytes = Double(max(1, burstBytes))
        tokens = Double(max(1, burstBytes))
        random = SplitMix64(state: seed)
    }

    /// The time a chunk of `byteCount` bytes that arrived at `arrival` is to be delivered.
    mutating func deliveryTime(ofChunk byteCount: Int, arrivingAt arrival: UInt64) -> UInt64 {
        // Token bucket: the chunk leaves once enough tokens (bytes) have accrued, in order.
        var departure = max(arrival, lastDeparture)
        if let rate = bytesPerNanosecond, rate > 0 {
            tokens = min(burstBytes, tokens + Double(departure &- lastRefill) * rate)
            lastRefill = departure
            let needed = Double(byteCount)
            if tokens >= needed {
                tokens -= needed
            } else {
                departure += UInt64(((needed - tokens) / rate).rounded(.up))
                tokens = 0
                lastRefill = departure
            }
        }
        lastDeparture = departure
        var delay = delayNanoseconds
        if jitterNanoseconds > 0 {
            delay = max(0, delay + Double.random(in: -jitterNanoseconds...jitterNanoseconds, using: &random))
        }
        lastDelivery = max(lastDelivery, departure + UInt64(delay))
        return lastDelivery
    }
}
