//! Caller-set bounds that a file must respect before anything is allocated for it.

/// Limits a decoder enforces on a `.lic` file before it allocates for it: the sizes the
/// container states (checked by lic-entropy's parser) and the memory the whole decode would
/// take (checked by lic-codec from the model's architecture, before any network runs).
///
/// The defaults accept any image up to 2^28 pixels (e.g. 16384 x 16384) whose decode needs at
/// most 8 GiB, and clips of up to 100 000 frames; build others with the `with_` methods:
///
/// ```
/// use lic_entropy::Limits;
///
/// let limits = Limits::default().with_max_pixels(4096 * 4096).with_max_alloc(1 << 30);
/// assert_eq!(limits.max_pixels(), 1 << 24);
/// assert_eq!(limits.max_side(), Limits::default().max_side());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    max_side: u32,
    max_pixels: u64,
    max_frames: u32,
    max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_side: crate::container::MAX_SIDE,
            max_pixels: 1 << 28,
            max_frames: 100_000,
            max_alloc: Self::DEFAULT_MAX_ALLOC,
        }
    }
}

impl Limits {
    /// The default memory cap of a decode: 8 GiB.
    pub const DEFAULT_MAX_ALLOC: u64 = 8 << 30;

    /// No limit beyond what the format itself allows.
    pub fn unlimited() -> Self {
        Self {
            max_side: crate::container::MAX_SIDE,
            max_pixels: u64::MAX,
            max_frames: u32::MAX,
            max_alloc: u64::MAX,
        }
    }

    /// Largest width or height accepted (at most the format's own limit, 2^20).
    pub fn max_side(&self) -> u32 {
        self.max_side
    }

    /// Largest `width * height` accepted.
    pub fn max_pixels(&self) -> u64 {
        self.max_pixels
    }

    /// Largest number of frames accepted.
    pub fn max_frames(&self) -> u32 {
        self.max_frames
    }

    /// Largest memory, in bytes, that decoding one picture may need (lic-codec estimates it
    /// from the model and the picture's size before decoding).
    pub fn max_alloc(&self) -> u64 {
        self.max_alloc
    }

    /// These limits with another largest side (values above the format's 2^20 act as 2^20).
    #[must_use]
    pub fn with_max_side(mut self, max_side: u32) -> Self {
        self.max_side = max_side.min(crate::container::MAX_SIDE);
        self
    }

    /// These limits with another largest pixel count.
    #[must_use]
    pub fn with_max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// These limits with another largest frame count.
    #[must_use]
    pub fn with_max_frames(mut self, max_frames: u32) -> Self {
        self.max_frames = max_frames;
        self
    }

    /// These limits with another memory cap for decoding one picture, in bytes.
    #[must_use]
    pub fn with_max_alloc(mut self, max_alloc: u64) -> Self {
        self.max_alloc = max_alloc;
        self
    }

    /// Refuses a picture of `width x height` beyond these limits.
    ///
    /// # Errors
    /// [`crate::Error::LimitExceeded`] naming the side or the pixel count.
    pub fn check_picture(&self, width: u32, height: u32) -> crate::Result<()> {
        let pixels = u64::from(width) * u64::from(height);
        exceeds("width", u64::from(width), u64::from(self.max_side))?;
        exceeds("height", u64::from(height), u64::from(self.max_side))?;
        exceeds("pixel count", pixels, self.max_pixels)
    }

    /// Refuses a file of `frames` frames beyond these limits.
    ///
    /// # Errors
    /// [`crate::Error::LimitExceeded`].
    pub fn check_frames(&self, frames: u32) -> crate::Result<()> {
        exceeds("frame count", u64::from(frames), u64::from(self.max_frames))
    }

    /// Refuses a decode that needs `bytes` of memory beyond these limits.
    ///
    /// # Errors
    /// [`crate::Error::LimitExceeded`].
    pub fn check_alloc(&self, bytes: u64) -> crate::Result<()> {
        exceeds("decoder memory (bytes)", bytes, self.max_alloc)
    }
}

fn exceeds(what: &'static str, value: u64, limit: u64) -> crate::Result<()> {
    if value > limit {
        return Err(crate::Error::LimitExceeded { what, value, limit });
    }
    Ok(())
}
