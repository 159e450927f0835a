//! Error types for every stage, each with a message that says what to do next.

use std::path::PathBuf;

/// Every failure twinsim reports; `exit_code` tells bad input (2) from internal failures (1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row of an input file is malformed: `FILE:LINE: field: reason`.
    #[error("{file}:{line}: {field}: {reason}")]
    BadRow {
        /// The input file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// The column the problem is in.
        field: String,
        /// What is wrong and, where possible, how to fix it.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Options or parameters that cannot work together or are out of range.
    #[error("{0}")]
    Invalid(String),
    /// A model could not be fitted; the message says why and what to try.
    #[error("fitting {model} failed: {reason}")]
    Fit {
        /// The model name.
        model: String,
        /// Why, and what to try.
        reason: String,
    },
    /// A model file is unreadable or of an unknown schema.
    #[error("{}: {reason}", path.display())]
    ModelFile {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// Process exit code for this error: 2 for anything caused by user input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Fit { .. } => 1,
            Error::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => 1,
            _ => 2,
        }
    }

    /// Shorthand for an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
