import CustodyIngest

/// Tests write gzip fixtures with the same writer the vault uses.
public typealias GzipWriter = CustodyIngest.GzipWriter
