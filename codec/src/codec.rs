//! Encoding and decoding whole images.

use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use lic_entropy::{
    ColorFormat, Frame, FrameKind, Header, LicFile, Limits, Section, SectionKind, StreamDecoder,
    StreamEncoder, gaussian_tables,
};

use crate::error::{Error, Result};
use crate::int::{IntMap, PassParams};
use crate::latent::{LatentCoder, LatentTimings, code_latent, symbol_of};
use crate::picture::Image;
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

/// Quality as stored in the header (hundredths).
fn quality_x100(q: f32) -> Result<u16> {
    if !(0.0..=100.0).contains(&q) {
        return Err(Error::InvalidArgument(format!(
            "quality {q} is outside 0..=100"
        )));
    }
    Ok((q * 100.0).round() as u16)
}

fn padded(side: u32) -> usize {
    (side as usize).div_ceil(PAD_MULTIPLE) * PAD_MULTIPLE
}

/// `[1, 3, Hp, Wp]` in `[0, 1]`, edges replicated into the padding.
pub(crate) fn image_tensor(image: &Image, device: &Device) -> Tensor<4> {
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

pub(crate) fn to_vec(t: Tensor<4>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::Unsupported(format!("reading a tensor back from the device: {e:?}")))
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
/// [`Error::InvalidArgument`] for a quality outside 0..=100; [`Error::Format`] only on an
/// internal inconsistency.
pub fn encode(model: &Model, image: &Image, q: f32) -> Result<Vec<u8>> {
    encode_timed(model, image, q).map(|(bytes, _)| bytes)
}

/// [`encode`], also reporting where the time went.
///
/// # Errors
/// As [`encode`].
pub fn encode_timed(model: &Model, image: &Image, q: f32) -> Result<(Vec<u8>, Timings)> {
    encode_inner(model, image, q).map(|(bytes, timings, _)| (bytes, timings))
}

/// The encoder's decoded latent `ŷ` (fixed point) beside the bytes: tests compare it with
/// [`decode_latent`] to prove encoder and decoder computed the same symbols.
#[doc(hidden)]
pub fn encode_with_latent(model: &Model, image: &Image, q: f32) -> Result<(Vec<u8>, IntMap)> {
    encode_inner(model, image, q).map(|(bytes, _, latent)| (bytes, latent))
}

/// What the analysis gives the coder: `y` (gain applied) and `z` (unrounded), row-major
/// `[1, C, h, w]` each with its `[C, h, w]`. Encoder-side refinement ([`crate::refine`])
/// replaces them with latents of its own before coding.
#[derive(Debug, Clone)]
pub(crate) struct Latents {
    pub y: Vec<f32>,
    pub y_dims: [usize; 3],
    pub z: Vec<f32>,
    pub z_dims: [usize; 3],
}

/// The quality stored in the header for `q`, and the quality the codec then works at.
pub(crate) fn stored_quality(q: f32) -> Result<(u16, f32)> {
    let quality_x100 = quality_x100(q)?;
    Ok((quality_x100, f32::from(quality_x100) / 100.0))
}

/// The analysis and hyper-analysis of `image` at quality `q`.
pub(crate) fn analyse(model: &Model, image: &Image, q: f32) -> Result<Latents> {
    let x = image_tensor(image, model.device());
    let y = model.analysis.forward(x) * channel_vector(&model.gains_at(q), model);
    let z = model.hyper_analysis.forward(y.clone());
    let [_, m, h, w] = y.dims();
    let [_, zc, zh, zw] = z.dims();
    Ok(Latents {
        y: to_vec(y)?,
        y_dims: [m, h, w],
        z: to_vec(z)?,
        z_dims: [zc, zh, zw],
    })
}

fn encode_inner(model: &Model, image: &Image, q: f32) -> Result<(Vec<u8>, Timings, IntMap)> {
    let (quality_x100, q) = stored_quality(q)?;
    let mut timings = Timings::default();
    let t = Instant::now();
    let latents = analyse(model, image, q)?;
    timings.transforms += t.elapsed();
    code_latents(model, image, quality_x100, &latents, timings)
}

/// Codes `latents` of `image` into a `.lic` file at the stored quality `quality_x100`.
pub(crate) fn code_latents(
    model: &Model,
    image: &Image,
    quality_x100: u16,
    latents: &Latents,
    mut timings: Timings,
) -> Result<(Vec<u8>, Timings, IntMap)> {
    let ([m, h, w], [zc, zh, zw]) = (latents.y_dims, latents.z_dims);
    let (y, z) = (&latents.y, &latents.z);
    let expected = (
        model.config().latent_channels,
        padded(image.height()) / LATENT_STRIDE,
        padded(image.width()) / LATENT_STRIDE,
    );
    if (m, h, w) != expected
        || (zc, zh, zw) != (model.config().hyper_channels, h / 4, w / 4)
        || y.len() != m * h * w
        || z.len() != zc * zh * zw
    {
        return Err(Error::Mismatch(format!(
            "latents [{m}, {h}, {w}] and [{zc}, {zh}, {zw}] do not fit the model and a \
             {}x{} image",
            image.width(),
            image.height()
        )));
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
    let psi = model.entropy.hyper(&z_symbols);
    timings.entropy_params += t.elapsed();

    let mut coder = Encoder {
        y,
        plane: h * w,
        stream: None,
        sections: Vec::new(),
    };
    let mut lt = LatentTimings::default();
    let y_hat = code_latent(&model.entropy, &psi, &mut coder, &mut lt)?;
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
    let file = LicFile {
        header: Header {
            fingerprint: model.fingerprint(),
            width: image.width(),
            height: image.height(),
            color: image.color(),
            quality_x100,
        },
        frames: vec![Frame {
            kind: FrameKind::Intra,
            sections,
        }],
    };
    Ok((file.to_bytes()?, timings, y_hat))
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
        if self.stream.is_none() {
            self.stream = Some(StreamDecoder::new(gaussian_tables(), self.sections[group])?);
        }
        let stream = self.stream.as_mut().expect("just created");
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

/// Decodes `.lic` bytes written by `model`, refusing files beyond `limits` before any
/// large allocation.
///
/// # Errors
/// [`Error::Format`] for malformed, truncated or corrupted files and for files from another
/// model ([`lic_entropy::Error::UnknownModel`]); [`Error::Unsupported`] for multi-frame files;
/// [`Error::Mismatch`] if the sections do not fit the model.
pub fn decode(model: &Model, bytes: &[u8], limits: &Limits) -> Result<Image> {
    decode_timed(model, bytes, limits).map(|(img, _)| img)
}

/// [`decode`], also reporting where the time went.
///
/// # Errors
/// As [`decode`].
pub fn decode_timed(model: &Model, bytes: &[u8], limits: &Limits) -> Result<(Image, Timings)> {
    let mut timings = Timings::default();
    let (y_hat, header) = decode_symbols(model, bytes, limits, &mut timings)?;
    let t = Instant::now();
    let q = f32::from(header.quality_x100) / 100.0;
    let image = reconstruct(model, &y_hat, q, &header)?;
    timings.transforms += t.elapsed();
    Ok((image, timings))
}

/// The decoded latent `ŷ` in fixed point, without synthesis (see [`encode_with_latent`]).
#[doc(hidden)]
pub fn decode_latent(model: &Model, bytes: &[u8], limits: &Limits) -> Result<IntMap> {
    decode_symbols(model, bytes, limits, &mut Timings::default()).map(|(l, _)| l)
}

fn decode_symbols(
    model: &Model,
    bytes: &[u8],
    limits: &Limits,
    timings: &mut Timings,
) -> Result<(IntMap, Header)> {
    let (header, _) = LicFile::parse_header(bytes, limits)?;
    header.require_model(&[model.fingerprint()])?;
    let file = LicFile::parse(bytes, limits)?;
    let header = file.header;
    let [frame] = file.frames.as_slice() else {
        return Err(Error::Unsupported(format!(
            "{} frames: this decoder reads still images (one frame)",
            file.frames.len()
        )));
    };
    if frame.kind != FrameKind::Intra {
        return Err(Error::Unsupported(
            "only intra frames can be decoded".into(),
        ));
    }
    let hyper: Vec<&[u8]> = frame.sections_of(SectionKind::HYPER).collect();
    let latent: Vec<&[u8]> = frame.sections_of(SectionKind::LATENT).collect();
    let groups = model.entropy.group_count();
    if hyper.len() != 1 || latent.len() != groups {
        return Err(Error::Mismatch(format!(
            "expected 1 hyper and {groups} latent sections, found {} and {}",
            hyper.len(),
            latent.len()
        )));
    }
    let (ph, pw) = (padded(header.height), padded(header.width));
    let (h, w) = (ph / LATENT_STRIDE, pw / LATENT_STRIDE);
    let (zh, zw) = (h / 4, w / 4);
    let zc = model.config().hyper_channels;

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
    let psi = model.entropy.hyper(&z_symbols);
    timings.entropy_params += t.elapsed();
    let mut coder = Decoder {
        sections: latent,
        stream: None,
    };
    let mut lt = LatentTimings::default();
    let y_hat = code_latent(&model.entropy, &psi, &mut coder, &mut lt)?;
    timings.entropy_params += lt.entropy_params;
    timings.rans += lt.coding;
    Ok((y_hat, header))
}

/// Synthesis of the fixed-point latent, cropped and rounded to 8 bits.
fn reconstruct(model: &Model, y_hat: &IntMap, q: f32, header: &Header) -> Result<Image> {
    let scale = 1.0 / f32::from(1u16 << crate::int::FRAC_BITS);
    let values: Vec<f32> = y_hat.data.iter().map(|&v| v as f32 * scale).collect();
    let y = Tensor::<4>::from_data(
        TensorData::new(values, [1, y_hat.c, y_hat.h, y_hat.w]),
        model.device(),
    ) * channel_vector(&model.inverse_gains_at(q), model);
    let rec = to_vec(model.synthesis.forward(y))?;
    let padded = (y_hat.h * LATENT_STRIDE, y_hat.w * LATENT_STRIDE);
    planar_to_image(&rec, padded, header.width, header.height, header.color)
}

/// The top-left `width x height` of a padded planar RGB reconstruction `[3, ph, pw]` in
/// `[0, 1]`, clamped and rounded to 8 bits; gray output is the mean of the three planes.
pub(crate) fn planar_to_image(
    rec: &[f32],
    (ph, pw): (usize, usize),
    width: u32,
    height: u32,
    color: ColorFormat,
) -> Result<Image> {
    let (w, h) = (width as usize, height as usize);
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
