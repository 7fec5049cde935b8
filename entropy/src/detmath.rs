//! Deterministic floating-point functions for building probability tables.
//!
//! Platform `libm`s (`exp`, `erfc`, `powf`) may differ in the last bit between operating
//! systems, CPUs and Rust versions, and one different bit can move an integer CDF entry, which
//! would make a file decode differently elsewhere. The functions here use only `+ - * /`,
//! `sqrt` and `floor`: IEEE 754 requires these to be correctly rounded, and Rust never fuses
//! `a * b + c` into an FMA on its own, so every platform computes the same bits. The golden
//! hash test in `gaussian.rs` pins the result.

/// ln 2 split in a high part with trailing zero bits (so `k * LN_2_HI` is exact for the
/// `k` that occur) and the remainder (Cody-Waite range reduction).
const LN_2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.93147180369123816490e-01
const LN_2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770002e-10
const LN_2: f64 = core::f64::consts::LN_2;
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3; // 1/sqrt(pi)
const FRAC_2_SQRT_PI: f64 = core::f64::consts::FRAC_2_SQRT_PI;
const FRAC_1_SQRT_2: f64 = core::f64::consts::FRAC_1_SQRT_2;

/// 2^k for an integer k, built from the bit pattern (exact; 0 below the normal range).
pub(crate) fn pow2i(k: i32) -> f64 {
    if k < -1022 {
        0.0
    } else if k > 1023 {
        f64::INFINITY
    } else {
        f64::from_bits(((k + 1023) as u64) << 52)
    }
}

/// e^x for x <= 0 (the only case the tables need), to about 1 ulp.
pub(crate) fn exp_neg(x: f64) -> f64 {
    debug_assert!(x <= 0.0);
    if x < -745.0 {
        return 0.0;
    }
    // x = k ln2 + r with |r| <= ln2 / 2, then e^x = 2^k e^r.
    let k = (x / LN_2 + 0.5).floor();
    let r = (x - k * LN_2_HI) - k * LN_2_LO;
    // Taylor series of e^r, Horner form; 20 terms are far past f64 precision for |r| < 0.35.
    let mut sum = 1.0;
    let mut n = 20.0;
    while n >= 1.0 {
        sum = 1.0 + r * sum / n;
        n -= 1.0;
    }
    sum * pow2i(k as i32)
}

/// The complementary error function for z >= 0.
pub(crate) fn erfc(z: f64) -> f64 {
    debug_assert!(z >= 0.0);
    if z < 2.0 {
        // erf by its Maclaurin series; for z < 2 the cancellation costs < 1e-12 relative.
        let z2 = z * z;
        let mut term = z;
        let mut sum = z;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term = -term * z2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        1.0 - FRAC_2_SQRT_PI * sum
    } else {
        // Continued fraction erfc(z) = e^{-z^2}/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))),
        // evaluated bottom-up; 80 levels converge to f64 precision for z >= 2.
        let mut f = z;
        let mut k = 80.0;
        while k >= 1.0 {
            f = z + (k / 2.0) / f;
            k -= 1.0;
        }
        exp_neg(-z * z) * FRAC_1_SQRT_PI / f
    }
}

/// Upper tail of the standard normal distribution, P(Z > x), for x >= 0.
pub(crate) fn normal_upper_tail(x: f64) -> f64 {
    0.5 * erfc(x * FRAC_1_SQRT_2)
}

/// 2^(j / 16) for j in 0..16, from repeated square roots of 2 (each correctly rounded).
pub(crate) fn pow2_sixteenths(j: u32) -> f64 {
    debug_assert!(j < 16);
    let r2 = core::f64::consts::SQRT_2; // 2^(8/16)
    let r4 = r2.sqrt(); // 2^(4/16)
    let r8 = r4.sqrt(); // 2^(2/16)
    let r16 = r8.sqrt(); // 2^(1/16)
    let mut v = 1.0;
    if j & 8 != 0 {
        v *= r2;
    }
    if j & 4 != 0 {
        v *= r4;
    }
    if j & 2 != 0 {
        v *= r8;
    }
    if j & 1 != 0 {
        v *= r16;
    }
    v
}

/// 2^(n / 16) for any integer n.
pub(crate) fn pow2_frac16(n: i32) -> f64 {
    let whole = n.div_euclid(16);
    let frac = n.rem_euclid(16) as u32;
    pow2i(whole) * pow2_sixteenths(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_libm_closely() {
        let mut x = 0.0;
        while x > -700.0 {
            let (a, b) = (exp_neg(x), x.exp());
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b,
                "exp({x}): {a} vs {b}"
            );
            x -= 0.173;
        }
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values: CPython's math.erfc (a correctly rounded libm to within 1 ulp).
        let cases = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (1.999_999, 0.004_677_755_648_073_953),
            (2.0, 0.004_677_734_981_047_266),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
            (10.0, 2.088_487_583_762_545e-45),
        ];
        for (z, want) in cases {
            let got = erfc(z);
            assert!(
                (got - want).abs() <= 2e-12 * want.max(1e-300) + 1e-300,
                "erfc({z}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn powers_of_two_fractions() {
        for n in -80..80 {
            let want = 2f64.powf(f64::from(n) / 16.0);
            let got = pow2_frac16(n);
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "2^({n}/16)"
            );
        }
        assert_eq!(pow2_frac16(32), 4.0);
        assert_eq!(pow2_frac16(-48), 0.125);
    }
}
