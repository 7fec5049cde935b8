//! Variable rate from one model: learned per-channel gain vectors on the latent (the
//! "asymmetric gained VAE" of Cui et al. 2021). The encoder multiplies `y` by a gain before
//! quantisation, the decoder multiplies `ŷ` by an inverse gain before synthesis; quality `q`
//! between trained levels interpolates the vectors geometrically. Gains touch only the float
//! transforms' inputs and outputs, never the integer entropy path, so they may stay in float.
//! The trainable vectors are lic-train's; a model file stores them as `[L, M]` tables.

/// Where quality `q` (clamped to 0..=100) falls between `levels` trained levels: the lower
/// level and the weight of the upper one.
pub fn quality_position(q: f32, levels: usize) -> (usize, f32) {
    if levels < 2 {
        return (0, 0.0);
    }
    let t = q.clamp(0.0, 100.0) / 100.0 * (levels - 1) as f32;
    let i = (t.floor() as usize).min(levels - 2);
    (i, t - i as f32)
}

/// Geometric interpolation of the rows of a `[L, M]` table (row-major `table`) at quality `q`.
pub fn interpolate(table: &[f32], levels: usize, q: f32) -> Vec<f32> {
    let m = table.len() / levels.max(1);
    let (i, a) = quality_position(q, levels);
    if levels < 2 {
        return table[..m].to_vec();
    }
    let lo = &table[i * m..(i + 1) * m];
    let hi = &table[(i + 1) * m..(i + 2) * m];
    lo.iter()
        .zip(hi)
        .map(|(&l, &h)| {
            let (l, h) = (l.abs().max(1e-6), h.abs().max(1e-6));
            (l.ln() * (1.0 - a) + h.ln() * a).exp()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_maps_onto_levels() {
        assert_eq!(quality_position(0.0, 6), (0, 0.0));
        assert_eq!(quality_position(100.0, 6), (4, 1.0));
        assert_eq!(quality_position(50.0, 6), (2, 0.5));
        assert_eq!(quality_position(-5.0, 6), (0, 0.0));
        let table = [1.0, 2.0, 4.0, 8.0];
        let mid = interpolate(&table, 2, 50.0);
        assert!((mid[0] - 2.0).abs() < 1e-5 && (mid[1] - 4.0).abs() < 1e-5);
        assert_eq!(interpolate(&table, 2, 100.0), vec![4.0, 8.0]);
    }
}
