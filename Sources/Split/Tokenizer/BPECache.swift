import Foundation

/// The ids of recently encoded pieces, shared by every thread using one tokenizer.
///
/// `@unchecked Sendable`: the dictionary is only touched while `lock` is held.
final class BPECache: @unchecked Sendable {
    /// Entries kept before the cache is emptied (a long document has ~10 K distinct words).
    static let capacity = 50_000

    private let lock = NSLock()
    private var entries: [[UInt8]: [Int32]] = [:]

    subscript(key: [UInt8]) -> [Int32]? {
        get { lock.withLock { entries[key] } }
        set {
            lock.withLock {
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = newValue
            }
        }
    }
}
