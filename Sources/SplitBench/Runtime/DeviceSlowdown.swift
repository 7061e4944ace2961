import Foundation
import Split

/// Emulates a slower edge device on this machine: after each piece of model compute, the
/// calling thread waits (factor − 1) times as long as the compute took, so the device's compute
/// runs at 1/factor of this machine's speed while the network and the cloud stay as they are.
/// The evaluation harness plays slow device profiles with it (there is no way to slow a CPU
/// here; `nice` or `cpulimit` would also slow the in-process cloud).
///
/// Waits shorter than `minimumWaitSeconds` are owed, not slept, and paid with the next one:
/// a sleep costs tens of microseconds, more than a one-token embedding takes.
public final class DeviceSlowdown: ComputePacer, @unchecked Sendable {
    // Safe to send: the owed time is behind a lock; the factor is immutable.
    /// How many times slower than this machine the emulated device computes (≥ 1).
    public let factor: Double
    private let owed = Locked(0.0)
    static let minimumWaitSeconds = 0.000_5

    /// A slowdown by `factor` (values below 1 count as 1).
    public init(factor: Double) {
        self.factor = factor.isFinite ? max(1, factor) : 1
    }

    /// Runs `body`, then waits for the extra time the slower device would have spent on it.
    public func pace<T>(_ body: () throws -> T) rethrows -> T {
        guard factor > 1 else { return try body() }
        let start = DispatchTime.now()
        defer {
            let elapsed = Self.seconds(since: start)
            let wait = owed.withLock { owed -> Double in
                owed += elapsed * (factor - 1)
                return owed >= Self.minimumWaitSeconds ? owed : 0
            }
            if wait > 0 {
                let sleepStart = DispatchTime.now()
                Thread.sleep(forTimeInterval: wait)
                // An oversleep is credited against the next wait.
                let slept = Self.seconds(since: sleepStart)
                owed.withLock { $0 -= slept }
            }
        }
        return try body()
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

extension DeviceProfile {
    /// The profile of a device `factor` times slower than this one at everything it computes
    /// (throughputs divided, measured layer times multiplied), named `name`: what a
    /// `DeviceSlowdown` of `factor` plays on this device.
    public func slowed(by factor: Double, name: String) -> DeviceProfile {
        let f = max(1, factor)
        let note = " (\(self.name) slowed \(f)x by the device-speed throttle)"
        func scaled(_ figure: ProfileFigure) -> ProfileFigure { ProfileFigure(figure.value / f, source: figure.source + note) }
        var profile = self
        profile.name = name
        profile.description = description + note
        profile.gemmGFLOPPerSecond = scaled(gemmGFLOPPerSecond)
        profile.memoryBandwidthGBPerSecond = scaled(memoryBandwidthGBPerSecond)
        profile.gemvBandwidthGBPerSecond = gemvBandwidthGBPerSecond.map(scaled)
        profile.layerOverheadMicroseconds = layerOverheadMicroseconds.map { ProfileFigure($0.value * f, source: $0.source + note) }
        profile.calibrations = calibrations?.map { calibration in
            var slowed = calibration
            slowed.embedSeconds *= f
            slowed.headSeconds *= f
            slowed.layerPrefillSeconds = calibration.layerPrefillSeconds.map { $0 * f }
            slowed.layerDecodeSeconds = calibration.layerDecodeSeconds.map { $0 * f }
            return slowed
        }
        return profile
    }
}
