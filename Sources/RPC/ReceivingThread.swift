#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the current thread is a transport's thread running a request's handler up to the handler's first
/// suspension: a grpc++ thread (`ServerCall` starts unary handlers with `Task.immediate` once the bridge has
/// read the whole request), or a SwiftNIO event loop of the HTTP API (HTTPAPI's connection handler does the same
/// once it has the whole body).
///
/// Work that a handler would otherwise hand to another thread and await (a model forward while nothing else
/// runs) may run right here instead, saving two thread wake-ups: this thread is not one of Swift's
/// cooperative pool, and the transport has other threads polling meanwhile.
public enum ReceivingThread {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    public static var isCurrent: Bool { pthread_getspecific(key) != nil }

    /// Runs `body` with `isCurrent` true on this thread.
    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, nil) }
        return try body()
    }
}
