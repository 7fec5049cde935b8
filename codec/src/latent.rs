//! The checkerboard, channel-grouped coding order of the latent, shared by the encoder and
//! the decoder so that both compute exactly the same parameters in exactly the same order.
//!
//! For each group `k` (channels `o..o+C`): channel features from groups `< k`; pass 0 codes the
//! anchors (`(y + x)` even) with parameters from the hyper and channel features; pass 1 codes
//! the rest with the spatial context over the decoded anchors added. Within a pass elements
//! are ordered channel by channel, positions in raster order.

use std::time::{Duration, Instant};

use lic_entropy::scale_index_log2;

use crate::error::Result;
use crate::int::{FRAC_BITS, IntEntropyModel, IntMap, PassParams, TemporalContext, saturate};
use crate::model::is_anchor;

/// Largest symbol magnitude the encoder writes; the latent is clamped there (far beyond any
/// value a trained analysis transform produces).
pub const SYMBOL_LIMIT: i32 = 1 << 20;

/// The side that owns the symbols: the encoder computes them from `y`, the decoder reads them.
pub(crate) trait LatentCoder {
    /// Symbols of one pass: `channels.1` channels from `channels.0`, at `positions` (flat
    /// `y * w + x`), channel-major, with the given means and table indices.
    fn pass(
        &mut self,
        group: usize,
        channels: (usize, usize),
        positions: &[usize],
        params: &PassParams,
    ) -> Result<Vec<i32>>;

    /// Called after both passes of `group`.
    fn end_group(&mut self, group: usize) -> Result<()>;
}

/// Time spent in the integer entropy-parameter networks and in the coder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LatentTimings {
    /// Integer networks (`h_s` excluded; see the caller).
    pub entropy_params: Duration,
    /// rANS coding, symbol computation included.
    pub coding: Duration,
}

/// Codes the whole latent of size `h x w` given the hyper features `psi` (and, for an inter
/// frame, the context from the previous frame's latent), returning the decoded latent `ŷ` in
/// fixed point (`[M, h, w]`).
pub(crate) fn code_latent(
    entropy: &IntEntropyModel,
    psi: &IntMap,
    temporal: Option<&TemporalContext>,
    coder: &mut dyn LatentCoder,
    timings: &mut LatentTimings,
) -> Result<IntMap> {
    let (h, w) = (psi.h, psi.w);
    let m: usize = (0..entropy.group_count())
        .map(|k| entropy.group_span(k).1)
        .sum();
    let mut latent = IntMap::zeros(m, h, w);
    let positions: [Vec<usize>; 2] = [true, false].map(|anchor| {
        (0..h * w)
            .filter(|&i| is_anchor(i / w.max(1), i % w.max(1)) == anchor)
            .collect()
    });
    for k in 0..entropy.group_count() {
        let (o, c) = entropy.group_span(k);
        let t = Instant::now();
        let channel = entropy.channel_features(k, &saturated(&latent, o))?;
        timings.entropy_params += t.elapsed();
        for (pass, pos) in positions.iter().enumerate() {
            let t = Instant::now();
            // The group's decoded anchors (non-anchors zero), in the second pass.
            let anchors = (pass == 1).then(|| {
                let mut anchors = IntMap::zeros(c, h, w);
                for ch in 0..c {
                    let src = latent.plane(o + ch);
                    let dst = anchors.plane_mut(ch);
                    for &i in &positions[0] {
                        dst[i] = saturate(src[i]);
                    }
                }
                anchors
            });
            let spatial = anchors
                .as_ref()
                .map(|a| entropy.spatial_features(k, a))
                .transpose()?;
            let change = temporal
                .map(|ctx| {
                    let own = anchors.as_ref().map(|a| (a, positions[0].as_slice()));
                    entropy.change_features(k, &latent, own, ctx)
                })
                .transpose()?;
            let inter = temporal.zip(change.as_ref());
            let params = entropy.params(k, psi, channel.as_ref(), spatial.as_ref(), inter)?;
            let mut pp = PassParams {
                means: Vec::with_capacity(c * pos.len()),
                indices: Vec::with_capacity(c * pos.len()),
            };
            for ch in 0..c {
                let means = params.plane(ch);
                let scales = params.plane(c + ch);
                for &i in pos {
                    pp.means.push(means[i]);
                    pp.indices.push(scale_index_log2(scales[i], FRAC_BITS));
                }
            }
            timings.entropy_params += t.elapsed();
            let t = Instant::now();
            let symbols = coder.pass(k, (o, c), pos, &pp)?;
            for ch in 0..c {
                let dst = latent.plane_mut(o + ch);
                for (j, &i) in pos.iter().enumerate() {
                    let e = ch * pos.len() + j;
                    dst[i] = symbols[e].wrapping_shl(FRAC_BITS).wrapping_add(pp.means[e]);
                }
            }
            timings.coding += t.elapsed();
        }
        let t = Instant::now();
        coder.end_group(k)?;
        timings.coding += t.elapsed();
    }
    Ok(latent)
}

/// The first `channels` channels of the latent, saturated to the activation range: what the
/// channel-context network reads.
fn saturated(latent: &IntMap, channels: usize) -> IntMap {
    let mut m = latent.channels(0, channels);
    for v in &mut m.data {
        *v = saturate(*v);
    }
    m
}

/// The symbol the encoder writes for latent value `y` when the mean is `mean_q` (fixed
/// point): `round(y - mean)`, clamped to `±SYMBOL_LIMIT` (NaN becomes 0).
pub(crate) fn symbol_of(y: f32, mean_q: i32) -> i32 {
    let r = (f64::from(y) - f64::from(mean_q) / f64::from(1u32 << FRAC_BITS)).round();
    (r as i32).clamp(-SYMBOL_LIMIT, SYMBOL_LIMIT)
}
