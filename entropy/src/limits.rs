//! Caller-set bounds that a file must respect before anything is allocated for it.

/// Limits a decoder enforces on a `.lic` file before it allocates for it.
///
/// The defaults accept any image up to 2^28 pixels (e.g. 16384 x 16384) and clips of up to
/// 100 000 frames; raise them for larger inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest width or height accepted.
    pub max_side: u32,
    /// Largest `width * height` accepted.
    pub max_pixels: u64,
    /// Largest number of frames accepted.
    pub max_frames: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_side: crate::container::MAX_SIDE,
            max_pixels: 1 << 28,
            max_frames: 100_000,
        }
    }
}

impl Limits {
    /// No limit beyond what the format itself allows.
    pub fn unlimited() -> Self {
        Self {
            max_side: crate::container::MAX_SIDE,
            max_pixels: u64::MAX,
            max_frames: u32::MAX,
        }
    }
}
