/// A hook around each piece of a model's compute (an embedding, a forward over a layer range,
/// the head), injected from outside the model: the benchmarks' `DeviceSlowdown` plays a slower
/// edge device with it. A model without one computes at this machine's speed.
public protocol ComputePacer: AnyObject, Sendable {
    /// Runs `body` and returns its result, taking as long as the paced device would.
    func pace<T>(_ body: () throws -> T) rethrows -> T
}
