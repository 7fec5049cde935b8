//! A deployable model, ready to code: float transforms on a burn device, integer entropy
//! networks on the CPU, and the fingerprint that `.lic` headers carry.

use burn::tensor::Device;
use lic_entropy::Fingerprint;
use lic_models::ModelFile;

use crate::codec::padded;
use crate::error::{Error, Result};
use crate::int::IntEntropyModel;
use crate::model::{
    Analysis, Architecture, HyperAnalysis, InferenceSynthesis, ModelInfo, Synthesis,
    interpolate_gains, load_parameters,
};

/// Bytes per padded pixel and transform channel that a CPU decode's peak memory grows by
/// (docs/RESULTS.md, "Decoder memory", measures it).
const DECODE_BYTES_PER_PIXEL_AND_CHANNEL: u64 = 4;
/// What a decode needs whatever the picture's size (the model and the runtime), generously.
const DECODE_FIXED_BYTES: u64 = 128 << 20;

/// A loaded model: what [`crate::encode`] and [`crate::decode`] need.
#[derive(Debug)]
pub struct Model {
    info: ModelInfo,
    fingerprint: Fingerprint,
    temporal_fingerprint: Option<Fingerprint>,
    parameters: usize,
    device: Device,
    pub(crate) analysis: Analysis,
    pub(crate) hyper_analysis: HyperAnalysis,
    /// The synthesis as decoding runs it (its wide layers in sub-pixel form).
    pub(crate) synthesis: InferenceSynthesis,
    gains: Vec<f32>,
    inverse_gains: Vec<f32>,
    pub(crate) entropy: IntEntropyModel,
}

impl Model {
    /// Loads a `.licm` model file's bytes onto `device`.
    ///
    /// # Errors
    /// [`Error::ModelFile`] if the file is malformed, [`Error::InvalidModel`] if it does not
    /// describe a lic model.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self> {
        Self::from_file(&ModelFile::from_bytes(bytes)?, device)
    }

    /// Loads a parsed model file onto `device`.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] or [`Error::InvalidArchitecture`] if it does not describe a lic
    /// model, [`Error::ModelFile`] if a tensor is missing or has another shape.
    pub fn from_file(file: &ModelFile, device: &Device) -> Result<Self> {
        let info = ModelInfo::from_file(file)?;
        let architecture = &info.architecture;
        let (n, m, z) = (
            architecture.transform_channels,
            architecture.latent_channels,
            architecture.hyper_channels,
        );
        let lookup = |prefix: &'static str| {
            move |name: &str, shape: &[usize]| -> Result<Option<Vec<f32>>> {
                Ok(Some(file.f32(&format!("{prefix}.{name}"), shape)?.to_vec()))
            }
        };
        let analysis = load_parameters(Analysis::new(n, m, device), device, lookup("analysis"))?;
        let synthesis = load_parameters(Synthesis::new(n, m, device), device, lookup("synthesis"))?;
        let hyper_analysis = load_parameters(
            HyperAnalysis::new(m, n, z, device),
            device,
            lookup("hyper_analysis"),
        )?;
        let levels = architecture.quality_levels;
        let gains = file.f32("gains.gain", &[levels, m])?.to_vec();
        let inverse_gains = file.f32("gains.inverse", &[levels, m])?.to_vec();
        if let Some(g) = gains
            .iter()
            .chain(&inverse_gains)
            .find(|g| !g.is_finite() || **g <= 0.0)
        {
            return Err(Error::invalid_model(
                "gains",
                format!("gain {g}: gains must be finite and positive"),
            ));
        }
        let entropy = IntEntropyModel::from_file(file, architecture)?;
        let parameters = file
            .tensors()
            .filter(|(name, _)| *name != crate::int::Z_TABLES && !name.ends_with(".shift"))
            .map(|(_, t)| t.shape().iter().product::<usize>())
            .sum();
        Ok(Self {
            fingerprint: file.fingerprint(),
            temporal_fingerprint: entropy.has_temporal().then(|| file.full_fingerprint()),
            parameters,
            info,
            device: device.clone(),
            analysis,
            hyper_analysis,
            synthesis: InferenceSynthesis::new(&synthesis),
            gains,
            inverse_gains,
            entropy,
        })
    }

    /// The model lic ships, embedded in the build (`lic-models`; its model card is
    /// `models/<name>.md`).
    ///
    /// # Errors
    /// Only if the embedded model is malformed (a build defect).
    pub fn default_model(device: &Device) -> Result<Self> {
        Self::from_bytes(lic_models::default_model_bytes(), device)
    }

    /// The fingerprint written into every `.lic` header this model encodes.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The identity of the model's temporal networks (the whole file's fingerprint) that a
    /// video's inter frames record; `None` for a model without them, which codes intra
    /// frames only.
    pub fn temporal_fingerprint(&self) -> Option<Fingerprint> {
        self.temporal_fingerprint
    }

    /// Number of weights and biases (float and integer), without the prior's tables.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// Name, architecture and trained λ set, as the model file records them.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        &self.info.architecture
    }

    /// An upper estimate, in bytes, of the memory that decoding a `width x height` picture
    /// takes with this model on the CPU: what [`crate::decode`] checks against
    /// [`crate::Limits::max_alloc`] before it allocates. It grows with the padded pixel count
    /// and the transforms' width (the synthesis' last layers at full and half resolution
    /// dominate); docs/RESULTS.md compares it with measured peaks.
    pub fn decode_memory(&self, width: u32, height: u32) -> u64 {
        let pixels = padded(width) as u64 * padded(height) as u64;
        let n = self.architecture().transform_channels as u64;
        pixels * DECODE_BYTES_PER_PIXEL_AND_CHANNEL * n + DECODE_FIXED_BYTES
    }

    /// The device the float transforms run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Per-channel gains applied to `y` at quality `q`.
    pub(crate) fn gains_at(&self, q: f32) -> Vec<f32> {
        interpolate_gains(&self.gains, self.architecture().quality_levels, q)
    }

    /// Per-channel inverse gains applied to `ŷ` at quality `q`.
    pub(crate) fn inverse_gains_at(&self, q: f32) -> Vec<f32> {
        interpolate_gains(&self.inverse_gains, self.architecture().quality_levels, q)
    }
}

/// The wgpu device (Vulkan, Metal or DX12, whichever the machine offers), acquired once per
/// process and shared by every caller.
///
/// burn's `Device::wgpu` is lazy: on a machine without a usable adapter it panics inside
/// burn's runtime thread at the first tensor. This acquires the adapter up front so that the
/// failure is an error the caller can report.
///
/// # Errors
/// [`Error::Backend`] when no adapter can be acquired (no GPU driver, no Vulkan loader).
#[cfg(feature = "wgpu")]
pub fn wgpu_device() -> Result<Device> {
    static DEVICE: std::sync::OnceLock<std::result::Result<Device, String>> =
        std::sync::OnceLock::new();
    DEVICE
        .get_or_init(|| Device::wgpu_options().init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::Backend {
            reason: format!(
                "no usable wgpu adapter ({e}); install the machine's Vulkan driver \
                 (on Linux: libvulkan1 and the GPU's ICD, or mesa-vulkan-drivers for a CPU \
                 fallback) or use the CPU backend"
            ),
        })
}
