"""obrec: exact per-second Binance order-book snapshots in RocksDB."""
