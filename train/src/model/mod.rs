//! lic's whole model in float, as training optimises it: the codec's transforms
//! ([`lic_codec::internals`]), the float twins of its integer entropy networks (`h_s`, the
//! channel groups' contexts), the gain vectors and the `z` prior; and the float
//! rate-distortion pass over them in the codec's coding order ([`rd`]).

mod context;
mod gains;
mod hyper_synthesis;
mod prior;
mod rd;
mod temporal;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData};
use lic_codec::Architecture;
use lic_codec::internals::{Analysis, HyperAnalysis, Synthesis, is_anchor};

pub use context::GroupContext;
pub use gains::Gains;
pub use hyper_synthesis::HyperSynthesis;
pub use prior::{FactorizedPrior, PRIOR_SCALE_RANGE, channel_table};
pub use rd::{CodedLatents, GAIN_FLOOR, LATENT_LOG2_SCALE_RANGE, Quantization, RdOutput};
pub use temporal::{TemporalGroup, TemporalModel};

/// All of lic's networks in float: the codec's transforms and the float twins of its integer
/// entropy networks, as training optimises them.
#[derive(Module, Debug)]
pub struct FloatModel {
    /// `g_a`.
    pub analysis: Analysis,
    /// `g_s`.
    pub synthesis: Synthesis,
    /// `h_a`.
    pub hyper_analysis: HyperAnalysis,
    /// `h_s`.
    pub hyper_synthesis: HyperSynthesis,
    /// One entropy-parameter block per channel group.
    pub groups: Vec<GroupContext>,
    /// Quality gains.
    pub gains: Gains,
    /// Prior of `z`.
    pub prior: FactorizedPrior,
}

impl FloatModel {
    /// A model with burn's default initialisation (random, not reproducible).
    pub fn new(config: &Architecture, device: &Device) -> Self {
        let (n, m, z) = (
            config.transform_channels,
            config.latent_channels,
            config.hyper_channels,
        );
        Self {
            analysis: Analysis::new(n, m, device),
            synthesis: Synthesis::new(n, m, device),
            hyper_analysis: HyperAnalysis::new(m, n, z, device),
            hyper_synthesis: HyperSynthesis::new(z, n, m, device),
            groups: config
                .group_offsets()
                .iter()
                .zip(&config.groups)
                .map(|(&o, &c)| GroupContext::new(o, c, device))
                .collect(),
            gains: Gains::new(config.quality_levels, m, device),
            prior: FactorizedPrior::new(z, device),
        }
    }

    /// A model initialised from `seed` by lic's own generator: the same weights on every
    /// machine, backend and thread count. Convolution weights are uniform in
    /// `±1/sqrt(fan_in)`, biases zero; normalisation, gain and prior parameters keep their
    /// fixed starting values.
    pub fn seeded(config: &Architecture, seed: u64, device: &Device) -> Self {
        let mut init = SeededInit {
            path: Vec::new(),
            rng: SplitMix64(seed),
            device: device.clone(),
        };
        Self::new(config, device).map(&mut init)
    }
}

/// `[1, 1, h, w]` tensor that is 1 at anchors and 0 elsewhere.
pub fn anchor_mask(h: usize, w: usize, device: &Device) -> Tensor<4> {
    let v: Vec<f32> = (0..h * w)
        .map(|i| if is_anchor(i / w, i % w) { 1.0 } else { 0.0 })
        .collect();
    Tensor::from_data(TensorData::new(v, [1, 1, h, w]), device)
}

/// SplitMix64 (Steele et al. 2014): tiny, and defined by integer operations alone.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`, exactly representable (24 random bits).
    pub fn next_signed_unit(&mut self) -> f32 {
        let bits = (self.next_u64() >> 40) as i32; // 24 bits
        (bits - (1 << 23)) as f32 / (1 << 23) as f32
    }
}

struct SeededInit {
    path: Vec<String>,
    rng: SplitMix64,
    device: Device,
}

impl ModuleMapper for SeededInit {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let last = self.path.last().map(String::as_str);
        let rng = &mut self.rng;
        let device = &self.device;
        param.map(|t| {
            let dims = t.dims();
            let values: Vec<f32> = match (last, D) {
                (Some("weight"), 4) => {
                    let fan_in = dims[1] * dims[2] * dims[3];
                    let bound = 1.0 / (fan_in as f32).sqrt();
                    (0..dims.iter().product::<usize>())
                        .map(|_| rng.next_signed_unit() * bound)
                        .collect()
                }
                (Some("bias"), _) => vec![0.0; dims.iter().product()],
                _ => return t,
            };
            Tensor::from_data(TensorData::new(values, dims), device)
        })
    }
}
