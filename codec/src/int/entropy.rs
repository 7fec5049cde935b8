//! The integer entropy model: `h_s` and every group's context and aggregation networks, read
//! from a model file, plus the `z` prior's CDF tables.

use lic_entropy::{CdfTable, TableSet};
use lic_models::ModelFile;

use super::conv::QuantizedLayer;
use super::{FRAC_BITS, IntConv2d, IntConvTranspose2d, IntMap, saturate};
use crate::model::ModelConfig;

/// Integer networks of one channel group.
#[derive(Clone, Debug)]
pub struct IntGroup {
    channel: Option<IntConv2d>,
    spatial: IntConv2d,
    agg: [IntConv2d; 3],
}

/// Means and table indices for the elements of one checkerboard pass of one group, in
/// coding order (channel-major, then raster order over the pass's positions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassParams {
    /// Means in fixed point (`FRAC_BITS`).
    pub means: Vec<i32>,
    /// Gaussian table index of each element.
    pub indices: Vec<u16>,
}

/// `h_s`, the groups' networks and the `z` tables, all integer.
#[derive(Clone, Debug)]
pub struct IntEntropyModel {
    offsets: Vec<usize>,
    groups_sizes: Vec<usize>,
    hs1: IntConvTranspose2d,
    hs2: IntConvTranspose2d,
    hs3: IntConv2d,
    groups: Vec<IntGroup>,
    z_tables: TableSet,
}

/// Reads the three integer tensors of layer `name` from `file`.
fn layer(file: &ModelFile, name: &str, weight_shape: &[usize]) -> Result<QuantizedLayer, String> {
    let cout_axis = if name.starts_with("hyper_synthesis.d") {
        1
    } else {
        0
    };
    let cout = weight_shape[cout_axis];
    let get = |suffix: &str, shape: &[usize]| {
        file.i32(&format!("{name}.{suffix}"), shape)
            .map(<[i32]>::to_vec)
            .map_err(|e| e.to_string())
    };
    Ok(QuantizedLayer {
        weight: get("weight", weight_shape)?,
        bias: get("bias", &[cout])?,
        shift: get("shift", &[cout])?,
    })
}

/// Names and shapes of every integer layer of a model with `config`, in file order:
/// `(name, weight shape, is transposed, has activation)`.
pub(crate) fn integer_layers(config: &ModelConfig) -> Vec<(String, [usize; 4], bool, bool)> {
    let (n, m, z) = (
        config.transform_channels,
        config.latent_channels,
        config.hyper_channels,
    );
    let mut v = vec![
        ("hyper_synthesis.d1".to_owned(), [z, n, 5, 5], true, true),
        ("hyper_synthesis.d2".to_owned(), [n, n, 5, 5], true, true),
        (
            "hyper_synthesis.c3".to_owned(),
            [2 * m, n, 1, 1],
            false,
            false,
        ),
    ];
    for (k, (&o, &c)) in config
        .group_offsets()
        .iter()
        .zip(&config.groups)
        .enumerate()
    {
        let g = format!("groups.{k}");
        if o > 0 {
            v.push((format!("{g}.channel"), [2 * c, o, 3, 3], false, false));
        }
        v.push((format!("{g}.spatial"), [2 * c, c, 5, 5], false, false));
        let inputs = if o == 0 { 4 * c } else { 6 * c };
        v.push((format!("{g}.agg1"), [4 * c, inputs, 1, 1], false, true));
        v.push((format!("{g}.agg2"), [3 * c, 4 * c, 1, 1], false, true));
        v.push((format!("{g}.agg3"), [2 * c, 3 * c, 1, 1], false, false));
    }
    v
}

/// Name of the tensor holding the `z` prior's tables.
pub(crate) const Z_TABLES: &str = "prior.tables";

/// Serialises per-channel tables as `[min_symbol, count, f_0 .. f_{count-1}]` per channel.
pub(crate) fn tables_to_i32(tables: &[CdfTable]) -> Vec<i32> {
    let mut v = Vec::new();
    for t in tables {
        v.push(t.min_symbol());
        v.push(t.entries() as i32);
        v.extend((0..t.entries()).map(|e| t.frequency(e) as i32));
    }
    v
}

pub(crate) fn tables_from_i32(data: &[i32], channels: usize) -> Result<TableSet, String> {
    let mut tables = Vec::with_capacity(channels);
    let mut rest = data;
    for c in 0..channels {
        let [min, count, tail @ ..] = rest else {
            return Err(format!("prior table {c} is truncated"));
        };
        let count = usize::try_from(*count).map_err(|_| format!("prior table {c}: bad size"))?;
        if count > tail.len() {
            return Err(format!("prior table {c} is truncated"));
        }
        let freqs: Vec<u32> = tail[..count]
            .iter()
            .map(|&f| u32::try_from(f).map_err(|_| format!("prior table {c}: negative frequency")))
            .collect::<Result<_, _>>()?;
        tables.push(
            CdfTable::from_frequencies(*min, &freqs)
                .map_err(|e| format!("prior table {c}: {e}"))?,
        );
        rest = &tail[count..];
    }
    if !rest.is_empty() {
        return Err("prior tables have trailing values".into());
    }
    TableSet::new(tables).map_err(|e| e.to_string())
}

impl IntEntropyModel {
    /// Reads the integer networks of a model with `config` from `file`.
    ///
    /// # Errors
    /// A message naming the missing or malformed tensor.
    pub fn from_file(file: &ModelFile, config: &ModelConfig) -> Result<Self, String> {
        let mut convs = Vec::new();
        let mut upconvs = Vec::new();
        for (name, shape, transposed, act) in integer_layers(config) {
            let q = layer(file, &name, &shape)?;
            if transposed {
                upconvs.push(IntConvTranspose2d::new(
                    shape[0], shape[1], shape[2], q, act, &name,
                )?);
            } else {
                convs.push((
                    name.clone(),
                    IntConv2d::new(shape[1], shape[0], shape[2], q, act, &name)?,
                ));
            }
        }
        let mut convs = convs.into_iter();
        let mut next = || convs.next().map(|(_, c)| c).ok_or("missing layer");
        let hs3 = next()?;
        let mut groups = Vec::new();
        for &o in &config.group_offsets() {
            let channel = if o > 0 { Some(next()?) } else { None };
            groups.push(IntGroup {
                channel,
                spatial: next()?,
                agg: [next()?, next()?, next()?],
            });
        }
        let data = file
            .get(Z_TABLES)
            .and_then(|t| match t {
                lic_models::Tensor::I32 { data, .. } => Some(data.as_slice()),
                lic_models::Tensor::F32 { .. } => None,
            })
            .ok_or_else(|| format!("model tensor `{Z_TABLES}` is missing or not i32"))?;
        let z_tables = tables_from_i32(data, config.hyper_channels)?;
        let mut upconvs = upconvs.into_iter();
        Ok(Self {
            offsets: config.group_offsets(),
            groups_sizes: config.groups.clone(),
            hs1: upconvs.next().ok_or("missing hyper_synthesis.d1")?,
            hs2: upconvs.next().ok_or("missing hyper_synthesis.d2")?,
            hs3,
            groups,
            z_tables,
        })
    }

    /// The `z` prior: table `c` codes channel `c`.
    pub fn z_tables(&self) -> &TableSet {
        &self.z_tables
    }

    /// Number of channel groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// `(first channel, channels)` of group `k`.
    pub fn group_span(&self, k: usize) -> (usize, usize) {
        (self.offsets[k], self.groups_sizes[k])
    }

    /// `h_s`: decoded `z` symbols `[Z, h/4, w/4]` (plain integers) to hyper features
    /// `[2M, h, w]` in fixed point.
    pub fn hyper(&self, z_symbols: &IntMap) -> IntMap {
        let mut z = z_symbols.clone();
        for v in &mut z.data {
            *v = saturate(v.wrapping_shl(FRAC_BITS));
        }
        let x = self.hs1.forward(&z);
        let x = self.hs2.forward(&x);
        self.hs3.forward(&x)
    }

    /// Channel-context features of group `k` from the decoded latent `[M, h, w]` (fixed
    /// point; only channels before the group are read). `None` for the first group.
    pub fn channel_features(&self, k: usize, latent: &IntMap) -> Option<IntMap> {
        let g = &self.groups[k];
        g.channel
            .as_ref()
            .map(|c| c.forward(&latent.channels(0, c.cin())))
    }

    /// Spatial-context features of group `k` from its anchors `[C, h, w]` (non-anchors zero).
    pub fn spatial_features(&self, k: usize, anchors: &IntMap) -> IntMap {
        self.groups[k].spatial.forward(anchors)
    }

    /// Means and log2-scales `[2C, h, w]` of group `k` from the hyper features, its channel
    /// features and its spatial features (`None` in the anchor pass, where they are zero).
    pub fn params(
        &self,
        k: usize,
        psi: &IntMap,
        channel: Option<&IntMap>,
        spatial: Option<&IntMap>,
    ) -> IntMap {
        let (o, c) = self.group_span(k);
        let psi_k = psi.channels(2 * o, 2 * c);
        let zeros;
        let spatial = match spatial {
            Some(s) => s,
            None => {
                zeros = IntMap::zeros(2 * c, psi.h, psi.w);
                &zeros
            }
        };
        let mut parts = vec![&psi_k];
        parts.extend(channel);
        parts.push(spatial);
        let g = &self.groups[k];
        let x = g.agg[0].forward(&IntMap::cat(&parts));
        let x = g.agg[1].forward(&x);
        g.agg[2].forward(&x)
    }
}
