//! The one error type of lic-entropy.

/// Everything that can go wrong while reading or writing a `.lic` file or an entropy-coded
/// stream. Every variant says what was expected; none of them is ever a panic.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // --- format -----------------------------------------------------------------------------
    /// The data does not start with the `.lic` magic bytes.
    #[error(
        "not a .lic file: expected the magic bytes 89 4C 49 43 (\"\\x89LIC\"), found {found:02X?}"
    )]
    NotLic {
        /// The first bytes that were found (up to four).
        found: Vec<u8>,
    },
    /// The file was written by a format version this build cannot read.
    #[error(
        "unsupported .lic format version {found}: this build reads versions {}..={supported} ({})",
        crate::container::OLDEST_READABLE_VERSION,
        if found > supported {
            "a newer lic wrote this file; upgrade lic to decode it".to_owned()
        } else {
            format!(
                "an older lic wrote this file: decode it with the release that writes version \
                 {found}, listed under \"Version history\" in docs/FORMAT.md, or re-encode the \
                 source image"
            )
        }
    )]
    UnsupportedVersion {
        /// Version byte found in the file.
        found: u8,
        /// The version this build reads and writes.
        supported: u8,
    },
    /// The data ended before a field that must be there.
    #[error("truncated .lic data: {what} needs {needed} more byte(s), only {available} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A CRC-32 did not match: the data was corrupted after it was written.
    #[error(
        "corrupted .lic data: CRC-32 of the {what} is {computed:08X}, the file says {stored:08X}"
    )]
    ChecksumMismatch {
        /// Which part of the file the checksum covers.
        what: &'static str,
        /// CRC stored in the file.
        stored: u32,
        /// CRC computed over the bytes read.
        computed: u32,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid .lic field `{field}`: {value} ({expected})")]
    InvalidField {
        /// The field's name, as in docs/FORMAT.md.
        field: &'static str,
        /// The value found.
        value: u64,
        /// What the format allows.
        expected: &'static str,
    },
    /// A section that a decoder must understand has a kind this build does not know.
    #[error(
        "unsupported critical section kind 0x{kind:02X} (known: 0x01 hyper-latent, 0x02 latent); \
         the file needs a newer lic"
    )]
    UnknownSection {
        /// The section kind byte.
        kind: u8,
    },
    /// The file was written by a model this decoder does not have.
    #[error(
        "this file was written by model {found}, which this decoder does not have \
         (available: {available}); decode it with the lic build or model file that wrote it"
    )]
    UnknownModel {
        /// Fingerprint in the file.
        found: crate::Fingerprint,
        /// Fingerprints the decoder has, comma-separated.
        available: String,
    },
    /// Bytes follow the last frame.
    #[error("{count} unexpected byte(s) after the last frame of the .lic data")]
    TrailingData {
        /// Number of extra bytes.
        count: usize,
    },

    /// Reading or writing a stream failed (not a format error).
    #[error("cannot read or write the .lic stream: {message}")]
    Io {
        /// The I/O error's kind.
        kind: std::io::ErrorKind,
        /// Its message.
        message: String,
    },

    // --- limits -----------------------------------------------------------------------------
    /// The file asks for more than the caller's [`crate::Limits`] allow.
    #[error(
        "{what} is {value}, above the limit of {limit} (raise the decoder's Limits to accept it)"
    )]
    LimitExceeded {
        /// What was limited.
        what: &'static str,
        /// Value requested by the file.
        value: u64,
        /// The limit in force.
        limit: u64,
    },

    // --- entropy coding ---------------------------------------------------------------------
    /// A symbol refers to a probability table that does not exist.
    #[error("probability table index {index} out of range: the table set has {count} tables")]
    TableIndexOutOfRange {
        /// Index requested.
        index: usize,
        /// Number of tables available.
        count: usize,
    },
    /// A probability table handed to lic-entropy is not a valid integer distribution.
    #[error("invalid probability table: {0}")]
    InvalidTable(String),
    /// The caller passed slices of different lengths.
    #[error("length mismatch: {symbols} symbols but {indices} table indices")]
    LengthMismatch {
        /// Number of symbols.
        symbols: usize,
        /// Number of table indices.
        indices: usize,
    },
    /// An entropy-coded stream does not decode consistently: corrupted data, or decoded with
    /// other tables or indices than it was encoded with.
    #[error("corrupted entropy-coded stream: {0}")]
    CorruptStream(&'static str),
}

/// Result alias of lic-entropy.
pub type Result<T, E = Error> = std::result::Result<T, E>;
