//! The integer entropy model: `h_s` and every group's context and aggregation networks, read
//! from a model file, plus the `z` prior's CDF tables.

use lic_entropy::{CdfTable, TableSet};
use lic_models::ModelFile;

use super::conv::{IntConv2d, IntConvTranspose2d};
use super::quant::{LayerKind, QuantizedLayer, integer_layers, temporal_layers, temporal_width};
use super::{FRAC_BITS, IntMap, saturate};
use crate::error::{Error, Result};
use crate::model::Architecture;

/// Integer networks of one channel group.
#[derive(Clone, Debug)]
pub(crate) struct IntGroup {
    channel: Option<IntConv2d>,
    spatial: IntConv2d,
    agg: [IntConv2d; 3],
}

/// The temporal networks of inter frames: the context over the previous frame's decoded
/// latent and each group's inter aggregation.
#[derive(Clone, Debug)]
struct IntTemporal {
    c1: IntConv2d,
    c2: IntConv2d,
    groups: Vec<IntTemporalGroup>,
}

/// One group's inter networks: its change context and its inter aggregation.
#[derive(Clone, Debug)]
struct IntTemporalGroup {
    change: IntConv2d,
    agg: [IntConv2d; 3],
}

/// What an inter frame's parameters see besides an intra frame's: the temporal features
/// `[2M, h, w]` and the previous frame's decoded latent `[M, h, w]` (saturated), both fixed
/// point.
#[derive(Clone, Debug)]
pub(crate) struct TemporalContext {
    features: IntMap,
    previous: IntMap,
}

/// A gate's fixed-point one: gates are clamped to `0 ..= GATE_ONE` (0 ..= 1.0).
const GATE_ONE: i32 = 1 << FRAC_BITS;

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
    temporal: Option<IntTemporal>,
    z_tables: TableSet,
}

/// Name of the tensor holding the `z` prior's tables.
pub const Z_TABLES: &str = "prior.tables";

/// Serialises per-channel tables as `[min_symbol, count, f_0 .. f_{count-1}]` per channel.
pub fn tables_to_i32(tables: &[CdfTable]) -> Vec<i32> {
    let mut v = Vec::new();
    for t in tables {
        v.push(t.min_symbol());
        v.push(t.entries() as i32);
        v.extend((0..t.entries()).map(|e| t.frequency(e) as i32));
    }
    v
}

/// Reads `channels` tables serialised by [`tables_to_i32`].
///
/// # Errors
/// [`Error::InvalidModel`] naming the table that is truncated, has a negative or invalid
/// frequency, or the trailing values.
pub fn tables_from_i32(data: &[i32], channels: usize) -> Result<TableSet> {
    let bad = |problem: String| Error::invalid_model(Z_TABLES, problem);
    let mut tables = Vec::with_capacity(channels.min(data.len()));
    let mut rest = data;
    for c in 0..channels {
        let [min, count, tail @ ..] = rest else {
            return Err(bad(format!("table {c} of {channels} is truncated")));
        };
        let count = usize::try_from(*count)
            .map_err(|_| bad(format!("table {c} has a negative size {count}")))?;
        if count > tail.len() {
            return Err(bad(format!(
                "table {c} needs {count} frequencies, {} values are left",
                tail.len()
            )));
        }
        let freqs: Vec<u32> = tail[..count]
            .iter()
            .map(|&f| u32::try_from(f).map_err(|_| bad(format!("table {c}: frequency {f}"))))
            .collect::<Result<_>>()?;
        tables.push(
            CdfTable::from_frequencies(*min, &freqs).map_err(|e| bad(format!("table {c}: {e}")))?,
        );
        rest = &tail[count..];
    }
    if !rest.is_empty() {
        return Err(bad(format!("{} values after the last table", rest.len())));
    }
    TableSet::new(tables).map_err(|e| bad(e.to_string()))
}

impl IntEntropyModel {
    /// Reads the integer networks of a model of `architecture` from `file`.
    ///
    /// # Errors
    /// [`Error::ModelFile`] for a missing tensor or one of another shape,
    /// [`Error::InvalidModel`] for values out of range.
    pub fn from_file(file: &ModelFile, architecture: &Architecture) -> Result<Self> {
        let mut convs = Vec::new();
        let mut upconvs = Vec::new();
        for spec in integer_layers(architecture) {
            let q = QuantizedLayer::read(file, &spec)?;
            match spec.kind {
                LayerKind::Transposed => upconvs.push(IntConvTranspose2d::new(&spec, q)?),
                LayerKind::Conv => convs.push(IntConv2d::new(&spec, q)?),
            }
        }
        let missing = |name: &str| Error::invalid_model(name, "missing layer");
        let mut convs = convs.into_iter();
        let mut next = || convs.next().ok_or_else(|| missing("groups"));
        let hs3 = next()?;
        let mut groups = Vec::new();
        for &o in &architecture.group_offsets() {
            let channel = if o > 0 { Some(next()?) } else { None };
            groups.push(IntGroup {
                channel,
                spatial: next()?,
                agg: [next()?, next()?, next()?],
            });
        }
        let data = match file.get(Z_TABLES) {
            Some(lic_models::Tensor::I32 { data, .. }) => data.as_slice(),
            _ => return Err(Error::invalid_model(Z_TABLES, "missing, or not i32")),
        };
        let z_tables = tables_from_i32(data, architecture.hyper_channels)?;
        let temporal = temporal_width(file)
            .map(|width| {
                let mut layers = temporal_layers(architecture, width)
                    .into_iter()
                    .map(|spec| IntConv2d::new(&spec, QuantizedLayer::read(file, &spec)?));
                let mut next = || layers.next().unwrap_or_else(|| Err(missing("temporal")));
                let (c1, c2) = (next()?, next()?);
                let groups = (0..groups.len())
                    .map(|_| {
                        Ok(IntTemporalGroup {
                            change: next()?,
                            agg: [next()?, next()?, next()?],
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok::<_, Error>(IntTemporal { c1, c2, groups })
            })
            .transpose()?;
        let mut upconvs = upconvs.into_iter();
        Ok(Self {
            offsets: architecture.group_offsets(),
            groups_sizes: architecture.groups.clone(),
            hs1: upconvs
                .next()
                .ok_or_else(|| missing("hyper_synthesis.d1"))?,
            hs2: upconvs
                .next()
                .ok_or_else(|| missing("hyper_synthesis.d2"))?,
            hs3,
            groups,
            temporal,
            z_tables,
        })
    }

    /// Whether the model has temporal networks (codes inter frames).
    pub fn has_temporal(&self) -> bool {
        self.temporal.is_some()
    }

    /// The context of an inter frame from the previous frame's decoded latent `[M, h, w]`
    /// (fixed point, saturated first): its temporal features `[2M, h, w]` (group `k` reads
    /// its slice at `2o`) and the saturated latent. `None` for a model without temporal
    /// networks.
    pub(crate) fn temporal_context(&self, previous: &IntMap) -> Result<Option<TemporalContext>> {
        let Some(t) = &self.temporal else {
            return Ok(None);
        };
        let mut previous = previous.clone();
        for v in &mut previous.data {
            *v = saturate(*v);
        }
        let features = t.c2.forward(&t.c1.forward(&previous)?)?;
        Ok(Some(TemporalContext { features, previous }))
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
    pub fn hyper(&self, z_symbols: &IntMap) -> Result<IntMap> {
        let mut z = z_symbols.clone();
        for v in &mut z.data {
            *v = saturate(v.wrapping_shl(FRAC_BITS));
        }
        let x = self.hs1.forward(&z)?;
        let x = self.hs2.forward(&x)?;
        self.hs3.forward(&x)
    }

    /// Channel-context features of group `k` from the decoded latent `[M, h, w]` (fixed
    /// point; only channels before the group are read). `None` for the first group.
    pub fn channel_features(&self, k: usize, latent: &IntMap) -> Result<Option<IntMap>> {
        let g = &self.groups[k];
        g.channel
            .as_ref()
            .map(|c| c.forward(&latent.channels(0, c.cin())))
            .transpose()
    }

    /// Spatial-context features of group `k` from its anchors `[C, h, w]` (non-anchors zero).
    pub fn spatial_features(&self, k: usize, anchors: &IntMap) -> Result<IntMap> {
        self.groups[k].spatial.forward(anchors)
    }

    /// The change features `[2C, h, w]` of group `k` in an inter frame: how much the latent
    /// changed since the previous frame where it is decoded already. The input holds the
    /// earlier groups' `sat(ŷ) − ŷ'` (`o` channels) and, in the second pass, the group's
    /// anchors' `sat(ŷ) − ŷ'` (zero elsewhere, and zero in the first pass), each saturated.
    pub(crate) fn change_features(
        &self,
        k: usize,
        latent: &IntMap,
        anchors: Option<(&IntMap, &[usize])>,
        context: &TemporalContext,
    ) -> Result<IntMap> {
        let t = self.temporal.as_ref().ok_or_else(|| {
            Error::invalid_model("temporal", "an inter frame needs temporal networks")
        })?;
        let (o, c) = self.group_span(k);
        let (h, w) = (latent.h, latent.w);
        let mut input = IntMap::zeros(o + c, h, w);
        for ch in 0..o {
            let (now, before) = (latent.plane(ch), context.previous.plane(ch));
            for ((d, &a), &b) in input.plane_mut(ch).iter_mut().zip(now).zip(before) {
                *d = saturate(saturate(a).wrapping_sub(b));
            }
        }
        if let Some((own, positions)) = anchors {
            for ch in 0..c {
                let (now, before) = (own.plane(ch), context.previous.plane(o + ch));
                let d = input.plane_mut(o + ch);
                for &i in positions {
                    d[i] = saturate(now[i].wrapping_sub(before[i]));
                }
            }
        }
        t.groups[k].change.forward(&input)
    }

    /// Means and log2-scales `[2C, h, w]` of group `k` from the hyper features, its channel
    /// features and its spatial features (`None` in the anchor pass, where they are zero).
    ///
    /// An inter frame's group aggregates through its inter twin, the group's temporal and
    /// change features (`temporal`: the frame's context and the pass's change features)
    /// appended to its inputs; that gives `C` means `μ_a`, `C` log2-scales and `C` gates `g`, and each mean moves towards the previous frame's value `ŷ'` by its gate:
    /// `μ = μ_a + ((clamp(g, 0, 1.0) · (ŷ' − μ_a) + 0.5) >> 8)` (fixed point, wrapping,
    /// saturated). Where the picture stands still a gate near 1 predicts the latent from the
    /// frame before directly; where it moves the gate closes.
    pub(crate) fn params(
        &self,
        k: usize,
        psi: &IntMap,
        channel: Option<&IntMap>,
        spatial: Option<&IntMap>,
        temporal: Option<(&TemporalContext, &IntMap)>,
    ) -> Result<IntMap> {
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
        let temporal_k = temporal.map(|(t, _)| t.features.channels(2 * o, 2 * c));
        let mut parts = vec![&psi_k];
        parts.extend(channel);
        parts.push(spatial);
        parts.extend(temporal_k.as_ref());
        parts.extend(temporal.map(|(_, change)| change));
        let agg = match (temporal, &self.temporal) {
            (None, _) => &self.groups[k].agg,
            (Some(_), Some(t)) => &t.groups[k].agg,
            (Some(_), None) => {
                return Err(Error::invalid_model(
                    "temporal",
                    "an inter frame needs temporal networks, and the model has none",
                ));
            }
        };
        let input = IntMap::cat(&parts).ok_or_else(|| {
            Error::invalid_model(format!("groups.{k}"), "its inputs have different sizes")
        })?;
        let x = agg[0].forward(&input)?;
        let x = agg[1].forward(&x)?;
        let out = agg[2].forward(&x)?;
        let Some((t, _)) = temporal else {
            return Ok(out);
        };
        let mut params = out.channels(0, 2 * c);
        for ch in 0..c {
            let previous = t.previous.plane(o + ch);
            let gates = out.plane(2 * c + ch);
            for ((mean, &gate), &prev) in params.plane_mut(ch).iter_mut().zip(gates).zip(previous) {
                let g = gate.clamp(0, GATE_ONE);
                let step = g
                    .wrapping_mul(prev.wrapping_sub(*mean))
                    .wrapping_add(GATE_ONE / 2)
                    >> FRAC_BITS;
                *mean = saturate(mean.wrapping_add(step));
            }
        }
        Ok(params)
    }
}
