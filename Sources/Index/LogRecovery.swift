/// What opening a durable `LocalIndex` does with a write-ahead log that is damaged before its end: a record
/// that is short or fails its CRC, with valid records after it. (A torn last record, which a crash leaves, is
/// always cut off: it was never acknowledged.)
public enum LogRecovery: String, Sendable, CaseIterable {
    /// Refuse to open (`IndexError.damagedLog`), leaving every file as it is for the operator to inspect.
    case refuse
    /// Keep a copy of the log as it is beside it (`index.wal.corrupt-<UTC time>`), then cut the log at the
    /// damage and open: the writes in the valid records after it are lost. For an operator who accepts that.
    case truncate
}
