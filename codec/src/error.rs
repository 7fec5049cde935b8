//! The one error type of lic-codec.

use std::path::PathBuf;

use lic_entropy::ColorFormat;

/// Everything that can go wrong while encoding, decoding, reading or writing an image, or
/// loading a model. Each variant carries the values involved; the messages say what was
/// expected. No public function of lic-codec panics on any input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- streams and model files ------------------------------------------------------------
    /// The `.lic` container or an entropy-coded stream is malformed, from another model, or
    /// beyond the caller's [`crate::Limits`].
    #[error(transparent)]
    Format(#[from] lic_entropy::Error),
    /// The model file is malformed (magic, version, checksum, tensor directory).
    #[error(transparent)]
    ModelFile(#[from] lic_models::Error),
    /// The model file is well formed, but a size of its architecture is out of range.
    #[error("invalid model architecture: {field} is {value}, expected {expected}")]
    InvalidArchitecture {
        /// The field of the architecture, as stored in the model file.
        field: &'static str,
        /// The value found.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// The model file is well formed, but a tensor or its configuration does not describe a
    /// lic model this build can run.
    #[error("invalid model: {part}: {problem}")]
    InvalidModel {
        /// The tensor or configuration entry at fault.
        part: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file holds a frame this decoder cannot decode (video: several frames, or an inter
    /// frame).
    #[error(
        "unsupported frame: the file has {frames} frame(s), the first of kind {first_kind}; \
         this decoder reads still images (one intra frame)"
    )]
    UnsupportedFrames {
        /// Frames in the file.
        frames: usize,
        /// Kind of the first frame (`intra`, or its kind byte).
        first_kind: String,
    },
    /// A video's inter frames and the temporal networks do not fit: a model without them, a
    /// clip coded with other ones, an inter frame without the frame before it.
    #[error("temporal model: {problem}")]
    Temporal {
        /// What does not fit, in words.
        problem: String,
    },
    /// The file's sections do not fit the model that decodes it.
    #[error(
        "the stream does not match the model: expected 1 hyper-latent and {expected_latent} \
         latent sections, found {hyper} and {latent}"
    )]
    SectionCount {
        /// Hyper-latent sections found.
        hyper: usize,
        /// Latent sections found.
        latent: usize,
        /// Latent sections the model codes (its channel groups).
        expected_latent: usize,
    },
    /// Latents handed to the coder do not fit the model and the image.
    #[error(
        "latents of shape {found:?} (y then z, each channels x rows x columns) do not fit the \
         model and the image: expected {expected:?}"
    )]
    LatentShape {
        /// `[y, z]` shapes given.
        found: [[usize; 3]; 2],
        /// `[y, z]` shapes the model and the image need.
        expected: [[usize; 3]; 2],
    },

    // --- arguments and images ---------------------------------------------------------------
    /// An encode target that is not a positive finite number.
    #[error("invalid encode target {target}: it must be a positive finite number")]
    InvalidTarget {
        /// The target as given.
        target: String,
    },

    /// No quality meets an encode target.
    #[error("cannot reach {target}: the closest lic gets is {best}")]
    TargetUnreachable {
        /// What was asked.
        target: String,
        /// What the quality scale's extreme gives.
        best: String,
    },

    /// An image's metadata (ICC profile, Exif, XMP) too large to carry.
    #[error(
        "the image's metadata (ICC profile, Exif, XMP) takes {bytes} bytes, more than the {max} \
         a .lic file carries; strip it (lic encode --strip)"
    )]
    MetadataTooLarge {
        /// Its bytes.
        bytes: usize,
        /// The most a file carries.
        max: usize,
    },

    /// A quality outside 0..=100 (or not a number).
    #[error("quality {quality} is outside 0..=100")]
    QualityOutOfRange {
        /// The quality asked for.
        quality: f32,
    },
    /// An image side is 0 or above what the format stores.
    #[error("image of {width}x{height}: each side must be within 1..={max_side}")]
    ImageSize {
        /// Width asked for.
        width: u32,
        /// Height asked for.
        height: u32,
        /// Largest side accepted.
        max_side: u32,
    },
    /// A pixel buffer's length does not match the image's size and colour format.
    #[error("a {width}x{height} {color:?} image needs {expected} bytes, got {actual}")]
    PixelBufferSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Colour format.
        color: ColorFormat,
        /// Bytes needed.
        expected: u64,
        /// Bytes given.
        actual: usize,
    },
    /// The image's samples are not what lic codes (transparency, 16-bit or float samples).
    #[error("unsupported image samples: {found}; lic codes opaque 8-bit RGB and grayscale images")]
    UnsupportedSamples {
        /// What the image has, in words (`RGBA with transparency`, `Rgb16`, ...).
        found: String,
    },
    /// The bytes are not an image in a format lic reads.
    #[error("unrecognised image format (lic reads PNG, JPEG, WebP, TIFF, BMP and PNM)")]
    UnknownImageFormat,
    /// Decoded images are written losslessly only.
    #[error(
        "cannot write decoded images as {format:?}: lic writes them losslessly as PNG, PNM, \
         BMP or TIFF"
    )]
    UnsupportedOutputFormat {
        /// The format asked for.
        format: image::ImageFormat,
    },
    /// The image codec (the `image` crate) failed to read or write the image.
    #[error("image data: {0}")]
    Image(#[source] image::ImageError),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },

    // --- video ------------------------------------------------------------------------------
    /// A frame of a clip could not be read or decoded; the frames before it were delivered.
    #[error("frame {index}: {error}")]
    Frame {
        /// The frame's index in the clip (0-based).
        index: u64,
        /// What went wrong (in the message, so not repeated as a source).
        error: Box<Error>,
    },
    /// A frame given to the video encoder does not match the clip.
    #[error("frame {index} is {found}, but the clip is {expected}")]
    FrameMismatch {
        /// The frame's index.
        index: u64,
        /// Its size and colour format.
        found: String,
        /// The clip's.
        expected: String,
    },
    /// A YUV4MPEG2 stream is malformed or uses what lic does not read.
    #[error("Y4M: {problem}")]
    Y4m {
        /// What is wrong, and how to convert where that helps.
        problem: String,
    },

    /// FFmpeg cannot read or write a video file, or the file holds what lic does not code.
    #[error("FFmpeg: {problem}")]
    Ffmpeg {
        /// What is wrong, and how to convert where that helps.
        problem: String,
    },

    // --- compute ------------------------------------------------------------------------------
    /// The compute backend cannot run on this machine (no GPU adapter, ...) or failed.
    #[error("backend: {reason}")]
    Backend {
        /// What went wrong, as the backend reports it, and what to do.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `source` as the error of frame `index`.
    pub(crate) fn frame(index: u64, source: impl Into<Error>) -> Self {
        Self::Frame {
            index,
            error: Box::new(source.into()),
        }
    }

    /// A tensor or configuration entry of a model file that does not describe a lic model.
    pub(crate) fn invalid_model(part: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::InvalidModel {
            part: part.into(),
            problem: problem.into(),
        }
    }
}
