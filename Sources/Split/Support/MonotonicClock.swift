#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic clock (`CLOCK_MONOTONIC`): for deadlines, delays and heartbeat timestamps,
/// never for wall-clock time.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (usually boot).
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
