//! Encoding and decoding pictures: whole `.lic` files ([`encode`], [`decode`]) and the frames
//! they hold ([`encode_frame`], [`decode_frame`]), each in the same steps on both sides:
//! `decode` → `decode_symbols` → `code_latent` (the coding order shared with the encoder) →
//! `reconstruct`.

use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use lic_entropy::container::MAX_SIDE;
use lic_entropy::{
    ColorFormat, Frame, FrameKind, Header, LicFile, Limits, Section, SectionKind, StreamDecoder,
    StreamEncoder, gaussian_tables,
};

use crate::error::{Error, Result};
use crate::int::{IntMap, PassParams, TemporalContext};
use crate::latent::{LatentCoder, LatentTimings, code_latent, symbol_of};
use crate::picture::{Image, MAX_METADATA_BYTES, Metadata};
use crate::runtime::Model;

/// Images are padded (edges replicated) to a multiple of this, the total stride of
/// analysis plus hyper-analysis.
pub const PAD_MULTIPLE: usize = 64;
/// Resolution of `y` relative to the image.
const LATENT_STRIDE: usize = 16;
/// `z` symbols are clamped to this magnitude (a trained `h_a` stays far inside).
const Z_LIMIT: i32 = 1 << 15;

/// Where the time of one encode or decode went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Float transforms on the model's device (analysis, hyper-analysis, synthesis), with
    /// the transfers to and from it.
    pub transforms: Duration,
    /// Integer entropy-parameter networks (`h_s`, contexts, aggregation).
    pub entropy_params: Duration,
    /// rANS coding of `z` and `y`.
    pub rans: Duration,
}

/// A quality as a `.lic` header stores it, in hundredths (0..=10000), and the value the codec
/// works at (the stored one, so that encoder and decoder agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quality {
    x100: u16,
}

impl Quality {
    /// `q` in 0..=100, rounded to hundredths.
    ///
    /// # Errors
    /// [`Error::QualityOutOfRange`] for a value outside 0..=100 or NaN.
    pub fn new(q: f32) -> Result<Self> {
        if !(0.0..=100.0).contains(&q) {
            return Err(Error::QualityOutOfRange { quality: q });
        }
        Ok(Self {
            x100: (q * 100.0).round() as u16,
        })
    }

    /// The quality a header stores (hundredths; values above 10000 act as 100).
    pub fn from_x100(x100: u16) -> Self {
        Self {
            x100: x100.min(10_000),
        }
    }

    /// Hundredths, as stored.
    pub fn x100(self) -> u16 {
        self.x100
    }

    /// The value the codec works at, 0..=100.
    pub fn value(self) -> f32 {
        f32::from(self.x100) / 100.0
    }
}

/// `side` padded to a multiple of [`PAD_MULTIPLE`].
pub(crate) fn padded(side: u32) -> usize {
    (side as usize).div_ceil(PAD_MULTIPLE) * PAD_MULTIPLE
}

/// `[1, 3, Hp, Wp]` in `[0, 1]`, edges replicated into the padding.
pub fn image_tensor(image: &Image, device: &Device) -> Tensor<4> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (pw, ph) = (padded(image.width()), padded(image.height()));
    let rgb = image.to_rgb();
    let mut planar = vec![0f32; 3 * pw * ph];
    for c in 0..3 {
        for y in 0..ph {
            let sy = y.min(h - 1);
            for x in 0..pw {
                let sx = x.min(w - 1);
                planar[(c * ph + y) * pw + x] = f32::from(rgb[(sy * w + sx) * 3 + c]) / 255.0;
            }
        }
    }
    Tensor::from_data(TensorData::new(planar, [1, 3, ph, pw]), device)
}

/// A tensor's values, read back from its device, row-major.
///
/// # Errors
/// [`Error::Backend`] if the device cannot give them back.
pub fn tensor_values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Backend {
            reason: format!("reading a tensor back from the device: {e:?}"),
        })
}

fn channel_vector(v: &[f32], model: &Model) -> Tensor<4> {
    Tensor::from_data(
        TensorData::new(v.to_vec(), [1, v.len(), 1, 1]),
        model.device(),
    )
}

/// Encodes `image` at quality `q` (0..=100, higher is better) into `.lic` bytes.
///
/// # Errors
/// [`Error::QualityOutOfRange`] for a quality outside 0..=100; [`Error::Format`] only on an
/// internal inconsistency.
pub fn encode(model: &Model, image: &Image, q: f32) -> Result<Vec<u8>> {
    encode_timed(model, image, q).map(|(bytes, _)| bytes)
}

/// [`encode`], also reporting where the time went.
///
/// # Errors
/// As [`encode`].
pub fn encode_timed(model: &Model, image: &Image, q: f32) -> Result<(Vec<u8>, Timings)> {
    let (quality, coded) = encode_picture(model, image, q)?;
    Ok((
        file_bytes(model, image, quality, coded.frame)?,
        coded.timings,
    ))
}

/// The analysis of `image` at quality `q` and the coding of its latents: every encode.
fn encode_picture(model: &Model, image: &Image, q: f32) -> Result<(Quality, CodedFrame)> {
    encode_picture_after(model, image, q, None)
}

/// [`encode_picture`] of a video frame: an inter frame where `previous` (the decoded latent
/// of the frame before) is given, else an intra frame.
fn encode_picture_after(
    model: &Model,
    image: &Image,
    q: f32,
    previous: Option<&IntMap>,
) -> Result<(Quality, CodedFrame)> {
    let quality = Quality::new(q)?;
    let t = Instant::now();
    let latents = analyse(model, image, quality)?;
    let timings = Timings {
        transforms: t.elapsed(),
        ..Timings::default()
    };
    Ok((
        quality,
        code_frame(model, image, &latents, timings, previous)?,
    ))
}

/// A video frame: intra where `previous` is `None`, else inter, conditioned on `previous`,
/// the decoded latent of the frame before; with the frame's own decoded latent, which the
/// next frame is conditioned on.
pub(crate) fn encode_video_frame(
    model: &Model,
    image: &Image,
    q: f32,
    previous: Option<&IntMap>,
) -> Result<(Frame, IntMap)> {
    let coded = encode_picture_after(model, image, q, previous)?.1;
    Ok((coded.frame, coded.latent))
}

/// The one frame of a picture: what a `.lic` file holds after its [`picture_header`]. Video
/// files hold several, one after the other.
///
/// # Errors
/// As [`encode`].
pub fn encode_frame(model: &Model, image: &Image, q: f32) -> Result<Frame> {
    Ok(encode_picture(model, image, q)?.1.frame)
}

/// The header of `image` coded by `model` at quality `q`.
///
/// # Errors
/// [`Error::QualityOutOfRange`] for a quality outside 0..=100.
pub fn picture_header(model: &Model, image: &Image, q: f32) -> Result<Header> {
    Ok(header(model, image, Quality::new(q)?))
}

fn header(model: &Model, image: &Image, quality: Quality) -> Header {
    Header {
        fingerprint: model.fingerprint(),
        width: image.width(),
        height: image.height(),
        color: image.color(),
        quality_x100: quality.x100(),
        video: None,
    }
}

fn file_bytes(model: &Model, image: &Image, quality: Quality, mut frame: Frame) -> Result<Vec<u8>> {
    let m = image.metadata();
    if m.bytes() > MAX_METADATA_BYTES {
        return Err(Error::MetadataTooLarge {
            bytes: m.bytes(),
            max: MAX_METADATA_BYTES,
        });
    }
    for (kind, block) in [
        (SectionKind::ICC_PROFILE, &m.icc_profile),
        (SectionKind::EXIF, &m.exif),
        (SectionKind::XMP, &m.xmp),
    ] {
        if let Some(data) = block {
            frame.sections.push(Section {
                kind,
                data: data.clone(),
            });
        }
    }
    let file = LicFile {
        header: header(model, image, quality),
        frames: vec![frame],
    };
    Ok(file.to_bytes()?)
}

/// The encoder's decoded latent `ŷ` (fixed point) beside the bytes: tests compare it with
/// [`decode_latent`] to prove encoder and decoder computed the same symbols.
///
/// # Errors
/// As [`encode`].
pub fn encode_with_latent(model: &Model, image: &Image, q: f32) -> Result<(Vec<u8>, IntMap)> {
    let (quality, coded) = encode_picture(model, image, q)?;
    Ok((
        file_bytes(model, image, quality, coded.frame)?,
        coded.latent,
    ))
}

/// What the analysis gives the coder: `y` (gain applied) and `z` (unrounded), row-major
/// `[1, C, h, w]` each with its `[C, h, w]`. Encoder-side refinement (lic-train) replaces
/// them with latents of its own before coding ([`encode_latents`]).
#[derive(Debug, Clone)]
pub struct Latents {
    /// `y`, row-major.
    pub y: Vec<f32>,
    /// `y`'s `[channels, rows, columns]`.
    pub y_dims: [usize; 3],
    /// `z`, row-major.
    pub z: Vec<f32>,
    /// `z`'s `[channels, rows, columns]`.
    pub z_dims: [usize; 3],
}

/// The analysis and hyper-analysis of `image` at `quality`.
///
/// # Errors
/// [`Error::Backend`] if the device fails.
pub fn analyse(model: &Model, image: &Image, quality: Quality) -> Result<Latents> {
    latents_at(model, analysis_base(model, image), quality)
}

/// The analysis transform's output before the quality's gains: what every quality of one
/// image shares (a search over qualities runs it once).
pub(crate) fn analysis_base(model: &Model, image: &Image) -> Tensor<4> {
    model.analysis.forward(image_tensor(image, model.device()))
}

/// [`analyse`] from the [`analysis_base`] of the image: the gains of `quality`, then the
/// hyper-analysis.
pub(crate) fn latents_at(model: &Model, base: Tensor<4>, quality: Quality) -> Result<Latents> {
    let y = base * channel_vector(&model.gains_at(quality.value()), model);
    let z = model.hyper_analysis.forward(y.clone());
    let [_, m, h, w] = y.dims();
    let [_, zc, zh, zw] = z.dims();
    Ok(Latents {
        y: tensor_values(y)?,
        y_dims: [m, h, w],
        z: tensor_values(z)?,
        z_dims: [zc, zh, zw],
    })
}

/// Codes `latents` of `image` into a `.lic` file at `quality`: [`encode`] after the analysis.
///
/// # Errors
/// [`Error::LatentShape`] if the latents do not fit the model and the image.
pub fn encode_latents(
    model: &Model,
    image: &Image,
    quality: Quality,
    latents: &Latents,
) -> Result<Vec<u8>> {
    let coded = code_frame(model, image, latents, Timings::default(), None)?;
    file_bytes(model, image, quality, coded.frame)
}

/// [`encode_latents`], also giving the decoded picture (the decoder's, from the same latent).
pub(crate) fn encode_latents_and_reconstruct(
    model: &Model,
    image: &Image,
    quality: Quality,
    latents: &Latents,
) -> Result<(Vec<u8>, Image)> {
    let coded = code_frame(model, image, latents, Timings::default(), None)?;
    let rec = reconstruct(model, &coded.latent, &header(model, image, quality))?;
    Ok((file_bytes(model, image, quality, coded.frame)?, rec))
}

/// A frame coded from latents, with the decoded latent and where the time went.
struct CodedFrame {
    frame: Frame,
    latent: IntMap,
    timings: Timings,
}

/// Entropy-codes `latents` of `image` into a frame: an intra frame, or with `previous` (the
/// decoded latent of the frame before) an inter frame.
fn code_frame(
    model: &Model,
    image: &Image,
    latents: &Latents,
    mut timings: Timings,
    previous: Option<&IntMap>,
) -> Result<CodedFrame> {
    let ([m, h, w], [zc, zh, zw]) = (latents.y_dims, latents.z_dims);
    let (y, z) = (&latents.y, &latents.z);
    let (eh, ew) = (
        padded(image.height()) / LATENT_STRIDE,
        padded(image.width()) / LATENT_STRIDE,
    );
    let expected = [
        [model.architecture().latent_channels, eh, ew],
        [model.architecture().hyper_channels, eh / 4, ew / 4],
    ];
    if [latents.y_dims, latents.z_dims] != expected
        || y.len() != m * h * w
        || z.len() != zc * zh * zw
    {
        return Err(Error::LatentShape {
            found: [latents.y_dims, latents.z_dims],
            expected,
        });
    }
    let t = Instant::now();
    let z_symbols = IntMap {
        c: zc,
        h: zh,
        w: zw,
        data: z
            .iter()
            .map(|&v| (v.round() as i32).clamp(-Z_LIMIT, Z_LIMIT))
            .collect(),
    };
    let z_indices = z_indices(zc, zh * zw);
    let hyper = lic_entropy::encode(model.entropy.z_tables(), &z_symbols.data, &z_indices)?;
    timings.rans += t.elapsed();
    let t = Instant::now();
    let psi = model.entropy.hyper(&z_symbols)?;
    let temporal = temporal_context(model, previous, [m, h, w])?;
    timings.entropy_params += t.elapsed();

    let mut coder = Encoder {
        y,
        plane: h * w,
        stream: None,
        sections: Vec::new(),
    };
    let mut lt = LatentTimings::default();
    let latent = code_latent(&model.entropy, &psi, temporal.as_ref(), &mut coder, &mut lt)?;
    timings.entropy_params += lt.entropy_params;
    timings.rans += lt.coding;

    let mut sections = vec![Section {
        kind: SectionKind::HYPER,
        data: hyper,
    }];
    sections.extend(coder.sections.into_iter().map(|data| Section {
        kind: SectionKind::LATENT,
        data,
    }));
    Ok(CodedFrame {
        frame: Frame {
            kind: if previous.is_some() {
                FrameKind::Inter
            } else {
                FrameKind::Intra
            },
            sections,
        },
        latent,
        timings,
    })
}

/// The context of an inter frame from `previous`, the decoded latent of the frame before
/// (which must have the latent's `shape`); `None` for an intra frame.
fn temporal_context(
    model: &Model,
    previous: Option<&IntMap>,
    shape: [usize; 3],
) -> Result<Option<TemporalContext>> {
    let Some(previous) = previous else {
        return Ok(None);
    };
    if previous.shape() != shape {
        return Err(Error::Temporal {
            problem: format!(
                "the previous frame's latent is {:?}, this frame's {shape:?}",
                previous.shape()
            ),
        });
    }
    model
        .entropy
        .temporal_context(previous)?
        .map(Some)
        .ok_or_else(|| Error::Temporal {
            problem: "an inter frame needs a model with temporal networks, and this one has none"
                .into(),
        })
}

/// Table index of every `z` element: its channel.
fn z_indices(channels: usize, plane: usize) -> Vec<u16> {
    (0..channels)
        .flat_map(|c| std::iter::repeat_n(c as u16, plane))
        .collect()
}

struct Encoder<'a> {
    y: &'a [f32],
    plane: usize,
    stream: Option<StreamEncoder<'static>>,
    sections: Vec<Vec<u8>>,
}

impl LatentCoder for Encoder<'_> {
    fn pass(
        &mut self,
        _group: usize,
        (o, c): (usize, usize),
        positions: &[usize],
        params: &PassParams,
    ) -> Result<Vec<i32>> {
        let mut symbols = Vec::with_capacity(c * positions.len());
        for ch in 0..c {
            let plane = &self.y[(o + ch) * self.plane..(o + ch + 1) * self.plane];
            for (j, &i) in positions.iter().enumerate() {
                symbols.push(symbol_of(plane[i], params.means[ch * positions.len() + j]));
            }
        }
        self.stream
            .get_or_insert_with(|| StreamEncoder::new(gaussian_tables()))
            .push(&symbols, &params.indices)?;
        Ok(symbols)
    }

    fn end_group(&mut self, _group: usize) -> Result<()> {
        let stream = self
            .stream
            .take()
            .unwrap_or_else(|| StreamEncoder::new(gaussian_tables()));
        self.sections.push(stream.finish()?);
        Ok(())
    }
}

struct Decoder<'a> {
    sections: Vec<&'a [u8]>,
    stream: Option<StreamDecoder<'static>>,
}

impl LatentCoder for Decoder<'_> {
    fn pass(
        &mut self,
        group: usize,
        _channels: (usize, usize),
        _positions: &[usize],
        params: &PassParams,
    ) -> Result<Vec<i32>> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => self
                .stream
                .insert(StreamDecoder::new(gaussian_tables(), self.sections[group])?),
        };
        Ok(stream.decode_vec(&params.indices)?)
    }

    fn end_group(&mut self, group: usize) -> Result<()> {
        match self.stream.take() {
            Some(s) => s.finish()?,
            None => StreamDecoder::new(gaussian_tables(), self.sections[group])?.finish()?,
        }
        Ok(())
    }
}

/// Decodes `.lic` bytes written by `model`, refusing files beyond `limits` (sizes and the
/// memory the decode would take) before any large allocation.
///
/// # Errors
/// [`Error::Format`] for malformed, truncated or corrupted files, for files from another
/// model ([`lic_entropy::Error::UnknownModel`]) and for files beyond `limits`
/// ([`lic_entropy::Error::LimitExceeded`]); [`Error::UnsupportedFrames`] for video files;
/// [`Error::SectionCount`] if the sections do not fit the model.
pub fn decode(model: &Model, bytes: &[u8], limits: &Limits) -> Result<Image> {
    decode_timed(model, bytes, limits).map(|(img, _)| img)
}

/// [`decode`], also reporting where the time went.
///
/// # Errors
/// As [`decode`].
pub fn decode_timed(model: &Model, bytes: &[u8], limits: &Limits) -> Result<(Image, Timings)> {
    let file = parse(model, bytes, limits)?;
    let mut timings = Timings::default();
    let y_hat = decode_symbols(
        model,
        &file.header,
        single_frame(&file)?,
        limits,
        &mut timings,
        None,
    )?;
    let t = Instant::now();
    let image = reconstruct(model, &y_hat, &file.header)?;
    timings.transforms += t.elapsed();
    Ok((
        image.with_metadata(metadata_of(single_frame(&file)?)),
        timings,
    ))
}

/// The metadata sections of `frame` (the first of each kind).
pub(crate) fn metadata_of(frame: &Frame) -> Metadata {
    let block = |kind| frame.sections_of(kind).next().map(<[u8]>::to_vec);
    Metadata {
        icc_profile: block(SectionKind::ICC_PROFILE),
        exif: block(SectionKind::EXIF),
        xmp: block(SectionKind::XMP),
    }
}

/// Decodes one frame of a file whose header is `header`, checking `header` against `limits`
/// and `model` first.
///
/// # Errors
/// As [`decode`].
pub fn decode_frame(
    model: &Model,
    header: &Header,
    frame: &Frame,
    limits: &Limits,
) -> Result<Image> {
    header.require_model(&[model.fingerprint()])?;
    let y_hat = decode_symbols(model, header, frame, limits, &mut Timings::default(), None)?;
    reconstruct(model, &y_hat, header)
}

/// The decoded latent of a video frame: an inter frame needs `previous`, the decoded latent
/// of the frame before (an intra frame ignores it).
pub(crate) fn decode_video_latent(
    model: &Model,
    header: &Header,
    frame: &Frame,
    limits: &Limits,
    previous: Option<&IntMap>,
) -> Result<IntMap> {
    decode_symbols(
        model,
        header,
        frame,
        limits,
        &mut Timings::default(),
        previous,
    )
}

/// The picture of a decoded latent (a video frame's).
pub(crate) fn reconstruct_frame(model: &Model, y_hat: &IntMap, header: &Header) -> Result<Image> {
    reconstruct(model, y_hat, header)
}

/// The decoded latent `ŷ` in fixed point, without synthesis (see [`encode_with_latent`]).
///
/// # Errors
/// As [`decode`].
pub fn decode_latent(model: &Model, bytes: &[u8], limits: &Limits) -> Result<IntMap> {
    let file = parse(model, bytes, limits)?;
    decode_symbols(
        model,
        &file.header,
        single_frame(&file)?,
        limits,
        &mut Timings::default(),
        None,
    )
}

/// The file, once its header has named `model` (so that a file from another model is
/// reported as such, not as damage further on).
fn parse(model: &Model, bytes: &[u8], limits: &Limits) -> Result<LicFile> {
    let (header, _) = LicFile::parse_header(bytes, limits)?;
    header.require_model(&[model.fingerprint()])?;
    Ok(LicFile::parse(bytes, limits)?)
}

/// The one frame of a still image (`decode_symbols` checks that it is an intra frame).
fn single_frame(file: &LicFile) -> Result<&Frame> {
    match file.frames.as_slice() {
        [frame] => Ok(frame),
        frames => Err(Error::UnsupportedFrames {
            frames: frames.len(),
            first_kind: frames
                .first()
                .map_or_else(|| "none".into(), |f| format!("{:?}", f.kind).to_lowercase()),
        }),
    }
}

/// The entropy-decoded latent `ŷ` of `frame`; an inter frame is conditioned on `previous`,
/// the decoded latent of the frame before.
fn decode_symbols(
    model: &Model,
    header: &Header,
    frame: &Frame,
    limits: &Limits,
    timings: &mut Timings,
    previous: Option<&IntMap>,
) -> Result<IntMap> {
    // A parsed header is valid; one handed to `decode_frame` may not be.
    if header.width == 0 || header.height == 0 || header.width.max(header.height) > MAX_SIDE {
        return Err(Error::ImageSize {
            width: header.width,
            height: header.height,
            max_side: MAX_SIDE,
        });
    }
    limits.check_picture(header.width, header.height)?;
    limits.check_alloc(model.decode_memory(header.width, header.height))?;
    let previous = match (frame.kind, previous) {
        (FrameKind::Intra, _) => None,
        (FrameKind::Inter, Some(p)) => Some(p),
        (kind, _) => {
            return Err(Error::UnsupportedFrames {
                frames: 1,
                first_kind: format!("{kind:?}").to_lowercase(),
            });
        }
    };
    let hyper: Vec<&[u8]> = frame.sections_of(SectionKind::HYPER).collect();
    let latent: Vec<&[u8]> = frame.sections_of(SectionKind::LATENT).collect();
    let groups = model.entropy.group_count();
    if hyper.len() != 1 || latent.len() != groups {
        return Err(Error::SectionCount {
            hyper: hyper.len(),
            latent: latent.len(),
            expected_latent: groups,
        });
    }
    let (ph, pw) = (padded(header.height), padded(header.width));
    let (h, w) = (ph / LATENT_STRIDE, pw / LATENT_STRIDE);
    let (zh, zw) = (h / 4, w / 4);
    let zc = model.architecture().hyper_channels;

    let t = Instant::now();
    let z_data = lic_entropy::decode(model.entropy.z_tables(), hyper[0], &z_indices(zc, zh * zw))?;
    let z_symbols = IntMap {
        c: zc,
        h: zh,
        w: zw,
        data: z_data,
    };
    timings.rans += t.elapsed();
    let t = Instant::now();
    let psi = model.entropy.hyper(&z_symbols)?;
    let m = model.architecture().latent_channels;
    let temporal = temporal_context(model, previous, [m, h, w])?;
    timings.entropy_params += t.elapsed();
    let mut coder = Decoder {
        sections: latent,
        stream: None,
    };
    let mut lt = LatentTimings::default();
    let y_hat = code_latent(&model.entropy, &psi, temporal.as_ref(), &mut coder, &mut lt)?;
    timings.entropy_params += lt.entropy_params;
    timings.rans += lt.coding;
    Ok(y_hat)
}

/// Synthesis of the fixed-point latent at the header's quality, cropped and rounded to 8 bits.
fn reconstruct(model: &Model, y_hat: &IntMap, header: &Header) -> Result<Image> {
    let q = Quality::from_x100(header.quality_x100).value();
    let scale = 1.0 / f32::from(1u16 << crate::int::FRAC_BITS);
    let values: Vec<f32> = y_hat.data.iter().map(|&v| v as f32 * scale).collect();
    let y = Tensor::<4>::from_data(
        TensorData::new(values, [1, y_hat.c, y_hat.h, y_hat.w]),
        model.device(),
    ) * channel_vector(&model.inverse_gains_at(q), model);
    let rec = tensor_values(model.synthesis.forward(y))?;
    let padded = (y_hat.h * LATENT_STRIDE, y_hat.w * LATENT_STRIDE);
    planar_to_image(&rec, padded, header.width, header.height, header.color)
}

/// The top-left `width x height` of a padded planar RGB reconstruction `[3, ph, pw]` in
/// `[0, 1]`, clamped and rounded to 8 bits; gray output is the mean of the three planes.
///
/// # Errors
/// [`Error::PixelBufferSize`] if `rec` is smaller than `3 * ph * pw` or the crop does not fit
/// in the padded size; [`Error::ImageSize`] for an empty crop.
pub fn planar_to_image(
    rec: &[f32],
    (ph, pw): (usize, usize),
    width: u32,
    height: u32,
    color: ColorFormat,
) -> Result<Image> {
    let (w, h) = (width as usize, height as usize);
    if rec.len() < 3 * ph * pw || w > pw || h > ph {
        return Err(Error::PixelBufferSize {
            width,
            height,
            color,
            expected: 3 * ph.max(h) as u64 * pw.max(w) as u64,
            actual: rec.len(),
        });
    }
    let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let pixels = match color {
        ColorFormat::Gray8 => (0..h * w)
            .map(|i| {
                let s: f32 = (0..3).map(|c| rec[(c * ph + i / w) * pw + i % w]).sum();
                to_u8(s / 3.0)
            })
            .collect(),
        _ => (0..h * w * 3)
            .map(|i| {
                let (p, c) = (i / 3, i % 3);
                to_u8(rec[(c * ph + p / w) * pw + p % w])
            })
            .collect(),
    };
    Image::new(width, height, color, pixels)
}
