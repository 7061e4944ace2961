import Foundation

/// A value guarded by a lock, for state that several threads read and write (allow-lists,
/// counters, stop flags). Keep critical sections short; never block inside `withLock`.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    // Safe to send: every access to `value` goes through `lock`.
    private let lock = NSLock()
    private var value: Value

    /// Wraps `value`.
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value and returns its result.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the current value.
    public var current: Value { withLock { $0 } }
}
