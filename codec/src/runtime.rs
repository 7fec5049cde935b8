//! A deployable model, ready to code: float transforms on a burn device, integer entropy
//! networks on the CPU, and the fingerprint that `.lic` headers carry.

use burn::tensor::Device;
use lic_entropy::Fingerprint;
use lic_models::ModelFile;

use crate::error::{Error, Result};
use crate::export::{ModelInfo, export};
use crate::int::IntEntropyModel;
use crate::model::{
    Analysis, HyperAnalysis, LicModel, ModelConfig, Synthesis, interpolate_gains, load_parameters,
};

/// Seed of the untrained default model used until trained weights land.
pub const DEFAULT_SEED: u64 = 0x4c49_435f_5631; // "LIC_V1"

/// A loaded model: what [`crate::encode`] and [`crate::decode`] need.
#[derive(Debug)]
pub struct Model {
    info: ModelInfo,
    fingerprint: Fingerprint,
    parameters: usize,
    device: Device,
    pub(crate) analysis: Analysis,
    pub(crate) hyper_analysis: HyperAnalysis,
    pub(crate) synthesis: Synthesis,
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
    /// [`Error::InvalidModel`] if it does not describe a lic model.
    pub fn from_file(file: &ModelFile, device: &Device) -> Result<Self> {
        let info: ModelInfo = serde_json::from_value(file.config.clone())
            .map_err(|e| Error::InvalidModel(format!("configuration: {e}")))?;
        info.validate().map_err(Error::InvalidModel)?;
        let config = &info.architecture;
        let (n, m, z) = (
            config.transform_channels,
            config.latent_channels,
            config.hyper_channels,
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
        let levels = config.quality_levels;
        let gains = file.f32("gains.gain", &[levels, m])?.to_vec();
        let inverse_gains = file.f32("gains.inverse", &[levels, m])?.to_vec();
        if gains
            .iter()
            .chain(&inverse_gains)
            .any(|g| !g.is_finite() || *g <= 0.0)
        {
            return Err(Error::InvalidModel(
                "gains must be finite and positive".into(),
            ));
        }
        let entropy = IntEntropyModel::from_file(file, config).map_err(Error::InvalidModel)?;
        let parameters = file
            .tensors()
            .filter(|(name, _)| *name != crate::int::Z_TABLES && !name.ends_with(".shift"))
            .map(|(_, t)| t.shape().iter().product::<usize>())
            .sum();
        Ok(Self {
            fingerprint: file.fingerprint(),
            parameters,
            info,
            device: device.clone(),
            analysis,
            hyper_analysis,
            synthesis,
            gains,
            inverse_gains,
            entropy,
        })
    }

    /// The untrained model of `config` initialised from `seed` ([`LicModel::seeded`]),
    /// exported and loaded: the same fingerprint on every machine.
    ///
    /// # Errors
    /// Only if `config` is invalid.
    pub fn seeded(config: &ModelConfig, seed: u64, name: &str, device: &Device) -> Result<Self> {
        config.validate().map_err(Error::InvalidModel)?;
        let cpu = Device::flex();
        let info = ModelInfo {
            name: name.to_owned(),
            architecture: config.clone(),
            lambdas: None,
        };
        let file = export(&LicModel::seeded(config, seed, &cpu), &info)?;
        Self::from_file(&file, device)
    }

    /// The model lic ships: the embedded trained weights (`lic-models`), or, in a build
    /// without them, the seeded untrained model of the default architecture.
    ///
    /// # Errors
    /// Only if the embedded model is malformed (a build defect).
    pub fn default_model(device: &Device) -> Result<Self> {
        match lic_models::default_model_bytes() {
            Some(bytes) => Self::from_bytes(bytes, device),
            None => Self::seeded(
                &ModelConfig::default(),
                DEFAULT_SEED,
                "lic-untrained-seed",
                device,
            ),
        }
    }

    /// The fingerprint written into every `.lic` header this model encodes.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Number of weights and biases (float and integer), without the prior's tables.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// Name and architecture.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The architecture.
    pub fn config(&self) -> &ModelConfig {
        &self.info.architecture
    }

    /// The device the float transforms run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Per-channel gains applied to `y` at quality `q`.
    pub fn gains_at(&self, q: f32) -> Vec<f32> {
        interpolate_gains(&self.gains, self.config().quality_levels, q)
    }

    /// Per-channel inverse gains applied to `ŷ` at quality `q`.
    pub fn inverse_gains_at(&self, q: f32) -> Vec<f32> {
        interpolate_gains(&self.inverse_gains, self.config().quality_levels, q)
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
        .map_err(|e| {
            Error::Backend(format!(
                "no usable wgpu adapter ({e}); install the machine's Vulkan driver \
                 (on Linux: libvulkan1 and the GPU's ICD, or mesa-vulkan-drivers for a CPU \
                 fallback) or use the CPU backend"
            ))
        })
}
