//! Event logs in, per-person sufficient statistics out: columns → ingest → identity → ledger.

pub mod columns;
pub mod dates;
pub mod identity;
pub mod ingest;
pub mod labels;
pub mod ledger;
pub mod synthetic;

pub use columns::ColumnSpec;
pub use ingest::{BadRowPolicy, Delimiter, EventLog, IngestOptions, read_event_log};
pub use ledger::{Ledger, Periods, SameDay, TimeUnit};

/// Salted hash of a canonical identifier: 16 hex digits, never reversible without the salt.
pub fn person_key(salt: &[u8; 32], canonical: &[u8]) -> String {
    let h = blake3::keyed_hash(salt, canonical);
    h.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Derives the 32-byte hashing key from a user-given salt text.
pub fn salt_key(salt: &str) -> [u8; 32] {
    blake3::derive_key("twinsim 2026 person key", salt.as_bytes())
}
