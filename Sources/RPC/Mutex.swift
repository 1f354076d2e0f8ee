import Synchronization

// The module's one lock type: the standard library's Mutex (Swift 6).
typealias Mutex = Synchronization.Mutex
