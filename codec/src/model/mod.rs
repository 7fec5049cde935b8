//! The float transforms in burn, one code path for every burn backend (the backend is chosen
//! by the [`Device`]): the analysis `g_a`, the synthesis `g_s` and the hyper-analysis `h_a`.
//! The networks that choose probability tables run as integers ([`crate::int`]); their float
//! twins, and the model that joins every network for training, are lic-train's. The
//! architecture and its costs are in docs/MODEL.md.

mod config;
mod gains;
mod gdn;
mod hyper;
mod info;
mod layers;
mod transforms;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};

pub use config::{Architecture, Complexity};
pub use gains::{interpolate as interpolate_gains, quality_position};
pub use gdn::SimplifiedGdn;
pub use hyper::HyperAnalysis;
pub use info::{FLOAT_PARTS, ModelInfo, lambdas_increase};
pub use layers::{LEAKY_SLOPE, conv, upconv};
pub use transforms::{Analysis, InferenceSynthesis, Synthesis};

/// Every float parameter of `module` as `(dotted path, shape, values)`, in module order.
pub fn named_parameters<M: Module>(module: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut v = Collect {
        path: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut v);
    v.out
}

/// Replaces the parameters of `module` by the values `lookup(path, shape)` returns (`None`
/// keeps a parameter as it is). Paths are dotted, relative to `module`.
///
/// # Errors
/// The first error `lookup` returns.
pub fn load_parameters<M: Module, E>(
    module: M,
    device: &Device,
    mut lookup: impl FnMut(&str, &[usize]) -> Result<Option<Vec<f32>>, E>,
) -> Result<M, E> {
    let mut loader = Load {
        path: Vec::new(),
        device: device.clone(),
        lookup: &mut lookup,
        error: None,
    };
    let module = module.map(&mut loader);
    match loader.error {
        Some(e) => Err(e),
        None => Ok(module),
    }
}

/// Which latent positions are anchors (coded in the first checkerboard pass): `(y + x)` even.
pub fn is_anchor(y: usize, x: usize) -> bool {
    (y + x).is_multiple_of(2)
}

struct Collect {
    path: Vec<String>,
    out: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let values = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        self.out.push((self.path.join("."), shape, values));
    }
}

/// `(dotted path, shape) -> new values`, as [`load_parameters`] takes it.
type Lookup<'a, E> = dyn FnMut(&str, &[usize]) -> Result<Option<Vec<f32>>, E> + 'a;

struct Load<'a, E> {
    path: Vec<String>,
    device: Device,
    lookup: &'a mut Lookup<'a, E>,
    error: Option<E>,
}

impl<E> ModuleMapper for Load<'_, E> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.error.is_some() {
            return param;
        }
        let name = self.path.join(".");
        let dims = param.val().dims();
        match (self.lookup)(&name, &dims) {
            Ok(Some(values)) => {
                let device = self.device.clone();
                param.map(|_| Tensor::from_data(TensorData::new(values, dims), &device))
            }
            Ok(None) => param,
            Err(e) => {
                self.error = Some(e);
                param
            }
        }
    }
}
