//! Warm start from a deployable model (`lic train --init`): the float parameters that a
//! `.licm` model file stands for, so a shipped model is itself the seed of further training
//! even where the run folder it came from is gone.
//!
//! The float parts (transforms, gains) are stored as they are. The integer entropy networks
//! are dequantised (`w_q / 2^shift`, `b_q / 2^(FRAC_BITS + shift)`): exactly what the codec
//! computes with, and quantising them again gives back the same integers. The `z` prior is
//! stored only as CDF tables, so its location and scale are refitted to each table (a pattern
//! search on the table's frequencies, started from its moments).

use std::collections::HashMap;

use burn::tensor::Device;
use lic_codec::internals::{
    FLOAT_PARTS, QuantizedLayer, Z_TABLES, dequantize, integer_layers, lambdas_increase,
    load_parameters, tables_from_i32,
};
use lic_codec::{Architecture, ModelInfo};
use lic_entropy::CdfTable;
use lic_models::ModelFile;

use crate::config::default_lambdas;
use crate::error::{Error, Result};
use crate::model::{FloatModel, LATENT_LOG2_SCALE_RANGE, PRIOR_SCALE_RANGE, channel_table};

/// Float parameters by name (the names of [`crate::model::named_parameters`]): shape and
/// row-major values.
pub(crate) type Parameters = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// The model's description and its float parameters: the float parts as stored, the
/// integer networks dequantised ([`dequantize`]), the `z` prior refitted to its tables.
///
/// # Errors
/// [`Error::UnusableModel`] if the file is not a deployable lic model (a checkpoint goes with
/// `--resume`); [`Error::Codec`] or [`Error::ModelFile`] if it is one but damaged.
pub(crate) fn model_parameters(file: &ModelFile) -> Result<(ModelInfo, Parameters)> {
    let info = ModelInfo::from_file(file).map_err(|e| {
        Error::unusable(
            "file",
            format!("not a deployable lic model (a checkpoint goes with --resume): {e}"),
        )
    })?;
    let mut params = HashMap::new();
    for (name, tensor) in file.tensors() {
        if FLOAT_PARTS.iter().any(|p| name.starts_with(p)) {
            let shape = tensor.shape().to_vec();
            let values = file.f32(name, &shape)?.to_vec();
            params.insert(name.to_owned(), (shape, values));
        }
    }
    for spec in integer_layers(&info.architecture) {
        let cout = spec.out_channels();
        let (w, b) = dequantize(&spec, &QuantizedLayer::read(file, &spec)?)?;
        params.insert(
            format!("{}.weight", spec.name),
            (spec.weight_shape.to_vec(), w),
        );
        params.insert(format!("{}.bias", spec.name), (vec![cout], b));
    }
    let z = info.architecture.hyper_channels;
    let Some(lic_models::Tensor::I32 { data, .. }) = file.get(Z_TABLES) else {
        return Err(Error::unusable(
            &info.name,
            format!("`{Z_TABLES}` is missing"),
        ));
    };
    let tables = tables_from_i32(data, z)?;
    let (location, log2_scale): (Vec<f32>, Vec<f32>) =
        tables.tables().iter().map(fit_prior).unzip();
    params.insert("prior.location".into(), (vec![z], location));
    params.insert("prior.log2_scale".into(), (vec![z], log2_scale));
    Ok((info, params))
}

/// The float networks a deployable model file stands for, as `lic train --init` rebuilds
/// them (the integer entropy networks dequantised, the `z` prior refitted to its tables), on
/// `device`, with the file's description.
///
/// # Errors
/// As [`model_parameters`].
pub fn float_model(file: &ModelFile, device: &Device) -> Result<(ModelInfo, FloatModel)> {
    let (info, params) = model_parameters(file)?;
    let model = load_model(&params, &info.architecture, device)?;
    Ok((info, model))
}

/// The float model of `config` on `device` with every parameter taken from `params`.
///
/// # Errors
/// [`Error::UnusableModel`] if a parameter is missing or has another size.
pub(crate) fn load_model(
    params: &Parameters,
    config: &Architecture,
    device: &Device,
) -> Result<FloatModel> {
    load_parameters(
        FloatModel::new(config, device),
        device,
        |name, shape| -> Result<Option<Vec<f32>>> {
            match params.get(name) {
                Some((_, v)) if v.len() == shape.iter().product::<usize>() => Ok(Some(v.clone())),
                _ => Err(Error::unusable(
                    "file",
                    format!("parameter `{name}` {shape:?} is missing"),
                )),
            }
        },
    )
}

/// The λ set a model's quality levels were trained at: the one its file records, or, for a
/// file that records none (exported before lic recorded it), `stated` (`--init-lambdas`),
/// else the default set. A `stated` set that contradicts the recorded one is refused rather
/// than silently believed: trusting the wrong set would move every level's gains.
///
/// # Errors
/// [`Error::Codec`] if `info` itself is invalid (a recorded set included),
/// [`Error::InvalidSetting`] if `stated` contradicts the recorded set or is not one
/// positive, increasing λ per level.
pub fn model_lambdas(info: &ModelInfo, stated: Option<&[f64]>) -> Result<Vec<f64>> {
    info.validate()?;
    let levels = info.architecture.quality_levels;
    match (&info.lambdas, stated) {
        (Some(recorded), Some(stated)) if recorded.as_slice() != stated => Err(Error::setting(
            "init lambdas",
            format!("{stated:?}"),
            format!("the set the model records that it was trained at, {recorded:?}"),
        )),
        (Some(recorded), _) => Ok(recorded.clone()),
        (None, Some(stated)) if stated.len() != levels || !lambdas_increase(stated) => {
            Err(Error::setting(
                "init lambdas",
                format!("{stated:?}"),
                format!("{levels} positive, increasing values"),
            ))
        }
        (None, Some(stated)) => Ok(stated.to_vec()),
        (None, None) => Ok(default_lambdas(levels)),
    }
}

/// Whether the model `info` describes can be grown into `wider` by appending channel groups
/// to its latent, every other size unchanged (`lic train --init` with a wider
/// `--architecture`, [`crate::Trainer::from_model`]). The latent width bounds the quality a
/// model can reach at high rates; appending groups keeps the groups already trained, their
/// coding order and their contexts as they are.
///
/// # Errors
/// [`Error::UnusableModel`] saying which size stops the growth.
pub(crate) fn check_growth(info: &ModelInfo, wider: &Architecture) -> Result<()> {
    let from = &info.architecture;
    let refuse = |problem: String| {
        Err(Error::unusable(
            &info.name,
            format!("cannot grow {from:?} into {wider:?}: {problem}"),
        ))
    };
    if from.transform_channels != wider.transform_channels
        || from.hyper_channels != wider.hyper_channels
        || from.quality_levels != wider.quality_levels
    {
        return refuse(
            "only the latent can grow: transform and hyper channels and quality levels must \
             stay the same"
                .into(),
        );
    }
    if wider.groups.len() <= from.groups.len() || !wider.groups.starts_with(&from.groups) {
        return refuse(format!(
            "the latent grows by appending channel groups to {:?}, not into {:?}",
            from.groups, wider.groups
        ));
    }
    Ok(())
}

/// A `[L, M]` gain table (row-major, `from.len()` rows trained at the distortion weights
/// `from`, increasing) carried to the weights `to`: each new row is the geometric
/// interpolation of the two trained rows around its λ in log λ, and beyond the trained range
/// the extrapolation of the nearest two. Trained gains are close to log-linear in log λ
/// (what `q` between levels already relies on), so a run that moves its λ set starts near
/// the rates it asks for instead of at the old ones.
pub(crate) fn remap_gains(table: &[f32], from: &[f64], to: &[f64]) -> Vec<f32> {
    let levels = from.len();
    let m = table.len() / levels.max(1);
    let row = |l: usize| &table[l * m..(l + 1) * m];
    to.iter()
        .flat_map(|&lambda| -> Vec<f32> {
            if levels < 2 {
                return row(0).to_vec();
            }
            let x = lambda.ln();
            let i = (0..levels - 2)
                .find(|&i| x < from[i + 1].ln())
                .unwrap_or(levels - 2);
            let a = (x - from[i].ln()) / (from[i + 1].ln() - from[i].ln());
            row(i)
                .iter()
                .zip(row(i + 1))
                .map(|(&lo, &hi)| {
                    let (lo, hi) = (f64::from(lo.abs().max(1e-6)), f64::from(hi.abs().max(1e-6)));
                    (lo.ln() * (1.0 - a) + hi.ln() * a).exp() as f32
                })
                .collect()
        })
        .collect()
}

/// Log2-scale bias of a grown model's new channel groups: a narrow Gaussian (σ ≈ 0.15), so
/// that their channels, zero until training opens them, cost almost no bits (P(0) ≈ 0.999),
/// yet inside [`LATENT_LOG2_SCALE_RANGE`], where the scale still gets a gradient.
const NEW_GROUP_LOG2_SCALE: f32 = LATENT_LOG2_SCALE_RANGE.0 + 0.25;

/// The parameters of a model of architecture `from` (as [`model_parameters`] gives them)
/// embedded in the wider architecture `to`, which appends channel groups to the latent
/// (the caller has checked [`check_growth`]). `fresh` are the parameters
/// of a seeded model of architecture `to`: the grown model starts as the original, coding
/// every image as it did (its new latent channels zero and nearly free), and training opens
/// the new channels where they pay.
///
/// Every old parameter fills the leading block of its grown tensor. What is new is `fresh`,
/// except where it would change what the original computes or codes:
/// - the analysis' new output channels are zero, so the new latent channels start at 0;
/// - `h_a`'s weights on them are zero, so `z` and everything coded from it are unchanged;
/// - the new groups' last aggregation layer is zero, bar a log2-scale bias of
///   [`NEW_GROUP_LOG2_SCALE`]: mean 0 and a narrow scale for a zero channel;
/// - their gains are each level's geometric mean over the old channels.
///
/// The synthesis keeps seeded weights on its new inputs: they read zeros at first, so they
/// change nothing, and they carry the gradient that opens the new channels (all-zero weights
/// on both sides of a channel would be a saddle that training never leaves).
///
/// # Errors
/// [`Error::UnusableModel`] if the parameters do not match `from`.
pub(crate) fn grow(
    old: &Parameters,
    from: &Architecture,
    to: &Architecture,
    fresh: Vec<(String, Vec<usize>, Vec<f32>)>,
) -> Result<Parameters> {
    let new_group = |name: &str| {
        name.strip_prefix("groups.")
            .and_then(|rest| rest.split('.').next())
            .and_then(|k| k.parse::<usize>().ok())
            .is_some_and(|k| k >= from.groups.len())
    };
    let mut grown = HashMap::with_capacity(fresh.len());
    for (name, shape, values) in fresh {
        let values = match old.get(&name) {
            Some((old_shape, v)) if *old_shape == shape => v.clone(),
            Some((old_shape, v)) => {
                let fill = if name.starts_with("analysis.") || name.starts_with("hyper_analysis.") {
                    vec![0.0; values.len()]
                } else if name.starts_with("gains.") {
                    mean_gain_rows(v, old_shape, &shape)
                } else if name.starts_with("synthesis.") || name.starts_with("hyper_synthesis.") {
                    values
                } else {
                    return Err(Error::unusable(
                        "file",
                        format!("`{name}` {old_shape:?} has no rule to grow into {shape:?}"),
                    ));
                };
                embed(v, old_shape, fill, &shape).ok_or_else(|| {
                    Error::unusable(
                        "file",
                        format!("`{name}` {old_shape:?} does not fit in {shape:?}"),
                    )
                })?
            }
            _ if new_group(&name) && name.contains(".agg3.") => {
                let mut zero = vec![0.0; values.len()];
                if name.ends_with(".bias") {
                    // Means first, then log2-scales.
                    let c = zero.len() / 2;
                    zero[c..].fill(NEW_GROUP_LOG2_SCALE);
                }
                zero
            }
            _ if new_group(&name) => values,
            _ => {
                return Err(Error::unusable(
                    "file",
                    format!("parameter `{name}` {shape:?} is missing"),
                ));
            }
        };
        grown.insert(name, (shape, values));
    }
    if let Some(unused) = old.keys().find(|k| !grown.contains_key(*k)) {
        return Err(Error::unusable(
            "file",
            format!("parameter `{unused}` has no place in {to:?}"),
        ));
    }
    Ok(grown)
}

/// `old` (row-major, `old_shape`) written over the leading block of `fill` (`shape`, same
/// rank, no dimension smaller); `None` if it does not fit.
fn embed(
    old: &[f32],
    old_shape: &[usize],
    mut fill: Vec<f32>,
    shape: &[usize],
) -> Option<Vec<f32>> {
    let fits = old_shape.len() == shape.len()
        && old_shape.iter().zip(shape).all(|(o, n)| o <= n)
        && old.len() == old_shape.iter().product::<usize>()
        && fill.len() == shape.iter().product::<usize>();
    if !fits {
        return None;
    }
    for (i, &v) in old.iter().enumerate() {
        // The old flat index as a multi-index, then as a flat index into the grown shape.
        let (mut rest, mut at, mut stride) = (i, 0, 1);
        for (&o, &n) in old_shape.iter().zip(shape).rev() {
            at += (rest % o) * stride;
            rest /= o;
            stride *= n;
        }
        fill[at] = v;
    }
    Some(fill)
}

/// A `[L, M']` gain table whose every row is the geometric mean of the old `[L, M]` row:
/// where a grown model's new channels start.
fn mean_gain_rows(old: &[f32], old_shape: &[usize], shape: &[usize]) -> Vec<f32> {
    let (m, grown_m) = (old_shape[1].max(1), shape[1]);
    old.chunks(m)
        .flat_map(|row| {
            let log_mean = row
                .iter()
                .map(|g| f64::from(g.abs().max(1e-6)).ln())
                .sum::<f64>()
                / m as f64;
            std::iter::repeat_n(log_mean.exp() as f32, grown_m)
        })
        .collect()
}

/// Location and log2-scale whose [`channel_table`] is closest to `table` (L1 distance of the
/// frequencies, escape included).
fn fit_prior(table: &CdfTable) -> (f32, f32) {
    let coded = table.entries() - 1;
    let total: f64 = (0..coded).map(|e| f64::from(table.frequency(e))).sum();
    let symbol = |e: usize| f64::from(table.min_symbol()) + e as f64;
    let mean = (0..coded)
        .map(|e| symbol(e) * f64::from(table.frequency(e)))
        .sum::<f64>()
        / total.max(1.0);
    let var = (0..coded)
        .map(|e| (symbol(e) - mean).powi(2) * f64::from(table.frequency(e)))
        .sum::<f64>()
        / total.max(1.0);
    // A discretised Gaussian's variance is about sigma^2 + 1/12 (Sheppard).
    let (lo, hi) = (PRIOR_SCALE_RANGE.0.log2(), PRIOR_SCALE_RANGE.1.log2());
    let mut best = (
        mean as f32,
        ((var - 1.0 / 12.0).max(0.01).sqrt().log2()).clamp(lo, hi) as f32,
    );
    // The frequencies' L1 distance is piecewise constant in the parameters, so the search
    // first follows the cumulative one (a Wasserstein distance, smooth in both), then
    // settles on the frequencies.
    best = pattern_search(best, (lo as f32, hi as f32), |p| {
        cumulative_distance(table, p)
    });
    best = pattern_search(best, (lo as f32, hi as f32), |p| distance(table, p));
    let mut best_d = distance(table, best);
    // A table's symbol range moves when `location ± tails` crosses an integer, so a location
    // on a short binary fraction (an untrained prior's 0) is only met exactly by snapping.
    for bits in 0..16 {
        let unit = (2.0f32).powi(-bits);
        let snap = |v: f32| (v / unit).round() * unit;
        for candidate in [
            (snap(best.0), best.1),
            (best.0, snap(best.1)),
            (snap(best.0), snap(best.1)),
        ] {
            let d = distance(table, candidate);
            if d < best_d {
                (best, best_d) = (candidate, d);
            }
        }
    }
    best
}

/// Coordinate and diagonal pattern search from `start`, the log2-scale kept in `range`.
fn pattern_search(
    start: (f32, f32),
    range: (f32, f32),
    objective: impl Fn((f32, f32)) -> u64,
) -> (f32, f32) {
    let (mut best, mut best_d) = (start, objective(start));
    let mut step = 0.25f32;
    let mut evaluations = 0;
    while step > 1e-7 && best_d > 0 && evaluations < 8000 {
        let mut improved = false;
        for (dl, ds) in [
            (1.0, 0.0),
            (-1.0, 0.0),
            (0.0, 1.0),
            (0.0, -1.0),
            (1.0, 1.0),
            (-1.0, -1.0),
            (1.0, -1.0),
            (-1.0, 1.0),
        ] {
            let candidate = (
                best.0 + dl * step,
                (best.1 + ds * step).clamp(range.0, range.1),
            );
            let d = objective(candidate);
            evaluations += 1;
            if d < best_d {
                (best, best_d, improved) = (candidate, d, true);
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    best
}

/// Sum over symbols of the difference of the two cumulative frequencies.
fn cumulative_distance(table: &CdfTable, (location, log2_scale): (f32, f32)) -> u64 {
    let Ok(other) = channel_table(location, log2_scale) else {
        return u64::MAX;
    };
    let symbols =
        table.min_symbol().min(other.min_symbol())..=table.max_symbol().max(other.max_symbol());
    let (mut a, mut b) = (0u32, 0u32);
    symbols
        .map(|s| {
            a += coded_frequency(table, s);
            b += coded_frequency(&other, s);
            u64::from(a.abs_diff(b))
        })
        .sum()
}

/// Frequency of `symbol` in `t`, 0 outside its coded range.
fn coded_frequency(t: &CdfTable, symbol: i32) -> u32 {
    if (t.min_symbol()..=t.max_symbol()).contains(&symbol) {
        t.frequency((symbol - t.min_symbol()) as usize)
    } else {
        0
    }
}

fn distance(table: &CdfTable, (location, log2_scale): (f32, f32)) -> u64 {
    let Ok(other) = channel_table(location, log2_scale) else {
        return u64::MAX;
    };
    let escape = |t: &CdfTable| t.frequency(t.entries() - 1);
    let symbols =
        table.min_symbol().min(other.min_symbol())..=table.max_symbol().max(other.max_symbol());
    symbols
        .map(|s| u64::from(coded_frequency(table, s).abs_diff(coded_frequency(&other, s))))
        .sum::<u64>()
        + u64::from(escape(table).abs_diff(escape(&other)))
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;
    use crate::config::TrainConfig;
    use crate::export::export;
    use crate::model::SplitMix64;
    use crate::trainer::Trainer;

    #[test]
    fn the_prior_is_refitted_to_the_same_tables() {
        let mut rng = SplitMix64(3);
        let mut pairs = vec![(0.0, 0.0), (0.5, -1.0), (-3.0, 2.0)];
        pairs.extend((0..40).map(|_| (rng.next_signed_unit() * 6.0, rng.next_signed_unit() * 4.0)));
        // The frequencies are quantised, so some parameter sets map to a table that no
        // nearby parameters reproduce exactly: within a few counts of 2^16. Below sigma 1/4
        // nearly all the mass is on one symbol and the tails, floored frequencies, are
        // ambiguous: within 256 counts (0.4 % of the mass, a negligible rate difference).
        let mut exact = 0;
        for &(location, log2_scale) in &pairs {
            let table = channel_table(location, log2_scale).unwrap();
            let fitted = fit_prior(&table);
            let d = distance(&table, fitted);
            let bound = if log2_scale >= -2.0 { 8 } else { 256 };
            assert!(d <= bound, "({location}, {log2_scale}) -> {fitted:?}: {d}");
            exact += usize::from(d == 0);
        }
        assert!(exact * 4 >= pairs.len() * 3, "{exact} of {}", pairs.len());
    }

    /// The export of a seeded tiny model, with its architecture, recording `lambdas`.
    fn tiny_export(device: &Device, lambdas: Option<Vec<f64>>) -> (Architecture, ModelFile) {
        let config = Architecture::tiny();
        let info = ModelInfo {
            name: "warm".into(),
            architecture: config.clone(),
            lambdas,
        };
        let file = export(&FloatModel::seeded(&config, 7, device), &info).unwrap();
        (config, file)
    }

    fn info_of(file: &ModelFile) -> ModelInfo {
        model_parameters(file).unwrap().0
    }

    fn gains(f: &ModelFile, config: &Architecture) -> Vec<f32> {
        f.f32(
            "gains.gain",
            &[config.quality_levels, config.latent_channels],
        )
        .unwrap()
        .to_vec()
    }

    #[test]
    fn a_model_warm_started_from_its_export_exports_the_same_file() {
        let device = Device::flex();
        let lambdas = default_lambdas(Architecture::tiny().quality_levels);
        let (config, original) = tiny_export(&device, Some(lambdas));
        let trainer = Trainer::from_model(
            &original,
            None,
            TrainConfig::new(config.clone()),
            "warm",
            &device,
        )
        .unwrap();
        assert_eq!(trainer.config().architecture, config);
        let again = trainer.export().unwrap();
        assert_eq!(again.fingerprint(), original.fingerprint());
        assert_eq!(again.to_bytes(), original.to_bytes());
    }

    #[test]
    fn gains_follow_lambda_in_and_beyond_the_trained_range() {
        // Two channels; rows at λ 1, 4, 16 with gains 1, 2, 4 (channel 0) and 3, 3, 3.
        let table = [1.0, 3.0, 2.0, 3.0, 4.0, 3.0];
        let from = [1.0, 4.0, 16.0];
        assert_eq!(remap_gains(&table, &from, &from), table.to_vec());
        let to = [0.25, 2.0, 64.0];
        let got = remap_gains(&table, &from, &to);
        let want = [0.5, 3.0, 2f32.sqrt(), 3.0, 8.0, 3.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{got:?}");
        }
        assert!(lambdas_increase(&from));
        assert!(!lambdas_increase(&[1.0, 1.0, 2.0]));
        assert!(!lambdas_increase(&[0.0, 1.0]));
    }

    #[test]
    fn a_model_warm_started_at_other_lambdas_moves_its_gains() {
        let device = Device::flex();
        // Not the default set, and not a round number: the recorded set must read back exactly.
        let trained: Vec<f64> = default_lambdas(Architecture::tiny().quality_levels)
            .iter()
            .map(|l| l / 3.0)
            .collect();
        let (config, original) = tiny_export(&device, Some(trained.clone()));
        assert_eq!(model_lambdas(&info_of(&original), None).unwrap(), trained);
        let mut train_config = TrainConfig::new(config.clone());
        train_config.lambdas = trained.iter().map(|l| l / 2.0).collect();
        let moved = Trainer::from_model(&original, None, train_config.clone(), "w", &device)
            .unwrap()
            .export()
            .unwrap();
        assert_eq!(
            gains(&moved, &config),
            remap_gains(&gains(&original, &config), &trained, &train_config.lambdas)
        );
        assert_ne!(gains(&moved, &config), gains(&original, &config));
        // The moved model records where its levels now are.
        assert_eq!(
            model_lambdas(&info_of(&moved), None).unwrap(),
            train_config.lambdas
        );
        // A stated set that contradicts the recorded one is refused, not believed.
        let contradicting = train_config.lambdas.clone();
        match Trainer::from_model(&original, Some(&contradicting), train_config, "w", &device) {
            Err(e) => assert!(e.to_string().contains("records"), "{e}"),
            Ok(_) => panic!("a λ set contradicting the model's was taken"),
        }
    }

    #[test]
    fn a_model_that_records_no_lambdas_takes_the_stated_or_the_default_set() {
        let device = Device::flex();
        let (config, original) = tiny_export(&device, None);
        let default = default_lambdas(config.quality_levels);
        assert_eq!(model_lambdas(&info_of(&original), None).unwrap(), default);
        let stated: Vec<f64> = default.iter().map(|l| l * 2.0).collect();
        assert_eq!(
            model_lambdas(&info_of(&original), Some(&stated)).unwrap(),
            stated
        );
        // Told the model was trained at twice the default λ, a default-λ run moves its gains.
        let moved = Trainer::from_model(
            &original,
            Some(&stated),
            TrainConfig::new(config.clone()),
            "w",
            &device,
        )
        .unwrap()
        .export()
        .unwrap();
        assert_eq!(
            gains(&moved, &config),
            remap_gains(&gains(&original, &config), &stated, &default)
        );
        for bad in [
            &stated[1..],
            &[1.0, 1.0, 2.0, 3.0, 4.0, 5.0][..config.quality_levels],
        ] {
            match model_lambdas(&info_of(&original), Some(bad)) {
                Err(e) => assert!(e.to_string().contains("increasing"), "{e}"),
                Ok(l) => panic!("{l:?} was taken"),
            }
        }
    }

    #[test]
    fn grown_tensors_keep_the_old_values_in_their_leading_block() {
        // [2, 3] into [3, 4]: rows and columns appended, the fill kept where nothing lands.
        let old = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let got = embed(&old, &[2, 3], vec![9.0; 12], &[3, 4]).unwrap();
        let want = [1.0, 2.0, 3.0, 9.0, 4.0, 5.0, 6.0, 9.0, 9.0, 9.0, 9.0, 9.0];
        assert_eq!(got, want);
        assert!(embed(&old, &[2, 3], vec![0.0; 4], &[2, 2]).is_none());
        assert!(embed(&old, &[6], vec![0.0; 12], &[3, 4]).is_none());
        // New gain channels start at each level's geometric mean.
        let gains = mean_gain_rows(&[1.0, 4.0, 2.0, 8.0], &[2, 2], &[2, 3]);
        for (g, w) in gains.iter().zip([2.0, 2.0, 2.0, 4.0, 4.0, 4.0]) {
            assert!((g - w).abs() < 1e-5, "{gains:?}");
        }
    }

    #[test]
    fn a_checkpoint_is_not_taken_for_a_model() {
        let mut file = ModelFile::new(serde_json::json!({"kind": "lic-checkpoint"}));
        file.push(
            "analysis.x",
            lic_models::Tensor::F32 {
                shape: vec![1],
                data: vec![0.0],
            },
        )
        .unwrap();
        let e = model_parameters(&file).unwrap_err().to_string();
        assert!(e.contains("not a deployable lic model"), "{e}");
    }
}
