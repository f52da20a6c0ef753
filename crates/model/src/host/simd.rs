//! The instruction sets the CPU engine's inner loops are compiled for, and the primitives those
//! loops are written over (gemm's `microkernel.rs` and matrixmultiply's per-ISA kernel types are
//! the models): the arithmetic of a kernel is written once, generic over [`Simd`], and
//! [`dispatch!`] compiles it once per instruction set. Which one runs is detected once, when
//! the engine is made ([`Isa::detect`]), and carried as a value.
//!
//! Every implementation computes the same operations in the same order; they differ in whether
//! a multiply-add is fused (one rounding) or not (two), so results differ in the last bits only.

/// An instruction set the CPU engine can run its inner loops on. Only made by
/// [`Isa::detect`], [`Isa::portable`] and [`Isa::available`], so a value names an instruction set
/// this processor has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isa(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
}

impl Isa {
    /// The fastest instruction set this processor has.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Isa(Kind::Avx2Fma);
        }
        Isa(Kind::Portable)
    }

    /// Plain Rust, for any processor (what the compiler vectorises by itself).
    pub fn portable() -> Self {
        Isa(Kind::Portable)
    }

    /// Every instruction set this processor can run: the portable one, and the detected one
    /// when it differs.
    pub fn available() -> Vec<Self> {
        let best = Self::detect();
        let mut all = vec![Self::portable()];
        if best != Self::portable() {
            all.push(best);
        }
        all
    }

    /// `portable` or `avx2+fma`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Kind::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2Fma => "avx2+fma",
        }
    }

    /// Whether this is an x86-64 AVX2 + FMA instruction set.
    pub fn is_avx2(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            matches!(self.0, Kind::Avx2Fma)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// Eight-lane vectors and scalar multiply-adds: the primitives the kernels are written over. A
/// value of the implementing type is the token that its instructions may run here.
pub(super) trait Simd: Copy {
    /// Eight f32 lanes.
    type V: Copy;
    /// All lanes 0.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: f32) -> Self::V;
    /// The first eight values of `s`.
    fn load(self, s: &[f32]) -> Self::V;
    /// Writes the lanes to the first eight values of `s`.
    fn store(self, v: Self::V, s: &mut [f32]);
    /// `a·b + c` lane by lane.
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a·b + c`, fused where the instruction set fuses.
    fn madd(self, a: f32, b: f32, c: f32) -> f32;
    /// A hint to load `s[at]` into the cache; reads nothing.
    fn prefetch(self, s: &[f32], at: usize);
}

/// Plain Rust: a multiply and an add (two roundings), as the tensor engine computes.
#[derive(Clone, Copy)]
pub(super) struct Portable;

impl Simd for Portable {
    type V = [f32; 8];
    #[inline(always)]
    fn zero(self) -> [f32; 8] {
        [0.0; 8]
    }
    #[inline(always)]
    fn splat(self, x: f32) -> [f32; 8] {
        [x; 8]
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> [f32; 8] {
        let mut v = [0.0; 8];
        v.copy_from_slice(&s[..8]);
        v
    }
    #[inline(always)]
    fn store(self, v: [f32; 8], s: &mut [f32]) {
        s[..8].copy_from_slice(&v);
    }
    #[inline(always)]
    fn fma(self, a: [f32; 8], b: [f32; 8], c: [f32; 8]) -> [f32; 8] {
        std::array::from_fn(|j| a[j] * b[j] + c[j])
    }
    #[inline(always)]
    fn madd(self, a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn prefetch(self, _s: &[f32], _at: usize) {}
}

/// x86-64 AVX2 with FMA. Made only by [`dispatch!`], inside a function compiled for those
/// features that runs only where [`Isa::detect`] found them.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// The token.
    ///
    /// # Safety
    /// The processor must have AVX2 and FMA.
    #[inline(always)]
    pub(super) unsafe fn new_unchecked() -> Self {
        Avx2(())
    }
}

// Every method: an `Avx2` exists only where the processor has AVX2 and FMA
// (`Avx2::new_unchecked`), and a slice is checked to hold eight values before it is accessed.
#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    type V = std::arch::x86_64::__m256;
    #[inline(always)]
    fn zero(self) -> Self::V {
        // SAFETY: the processor has AVX2 and FMA (an `Avx2` exists).
        unsafe { std::arch::x86_64::_mm256_setzero_ps() }
    }
    #[inline(always)]
    fn splat(self, x: f32) -> Self::V {
        // SAFETY: the processor has AVX2 and FMA (an `Avx2` exists).
        unsafe { std::arch::x86_64::_mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> Self::V {
        let s = &s[..8];
        // SAFETY: AVX2 is here (an `Avx2` exists) and `s` holds the eight values read.
        unsafe { std::arch::x86_64::_mm256_loadu_ps(s.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: Self::V, s: &mut [f32]) {
        let s = &mut s[..8];
        // SAFETY: AVX2 is here (an `Avx2` exists) and `s` holds the eight values written.
        unsafe { std::arch::x86_64::_mm256_storeu_ps(s.as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        // SAFETY: the processor has AVX2 and FMA (an `Avx2` exists).
        unsafe { std::arch::x86_64::_mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn madd(self, a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn prefetch(self, s: &[f32], at: usize) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let at = at.min(s.len().saturating_sub(1));
        // SAFETY: a prefetch of an address inside `s` (or of its start when empty) on a
        // processor with SSE (every x86-64): it reads nothing.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(s.as_ptr().wrapping_add(at) as *const i8) };
    }
}

/// Defines `$name(isa, args…)`, which runs `$body(token, args…)` compiled for the instruction
/// set `isa` names: AVX2 + FMA (x86-64) or portable.
macro_rules! dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident = $body:ident ($($arg:ident : $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(isa: $crate::host::simd::Isa, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if isa.is_avx2() {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn fast($($arg: $ty),*) {
                    // SAFETY: `fast` runs only where the processor has AVX2 and FMA.
                    $body(unsafe { $crate::host::simd::Avx2::new_unchecked() }, $($arg),*)
                }
                // SAFETY: an AVX2 `Isa` is only made where the processor has AVX2 and FMA.
                return unsafe { fast($($arg),*) };
            }
            let _ = isa;
            $body($crate::host::simd::Portable, $($arg),*)
        }
    };
}
pub(super) use dispatch;

#[cfg(test)]
/// Every instruction set the tests mean to cover is here: on x86-64 that includes AVX2 +
/// FMA, unless `LRSWEEP_NO_AVX2` says this machine lacks it (then only the portable one).
pub(super) fn all_isas() -> Vec<Isa> {
    let all = Isa::available();
    #[cfg(target_arch = "x86_64")]
    assert!(
        all.iter().any(|i| i.is_avx2()) || std::env::var_os("LRSWEEP_NO_AVX2").is_some(),
        "this x86-64 processor has no AVX2 + FMA, so their kernels cannot be tested here; set LRSWEEP_NO_AVX2=1 to test the portable ones alone"
    );
    assert_eq!(all[0], Isa::portable());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primitives_agree_on_every_instruction_set() {
        fn run<S: Simd>(s: S) -> ([f32; 8], f32) {
            let a: Vec<f32> = (0..8).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..8).map(|i| 1.0 - i as f32 * 0.25).collect();
            let mut out = [0f32; 8];
            let v = s.fma(s.load(&a), s.load(&b), s.splat(2.0));
            let v = s.fma(v, s.splat(1.0), s.zero());
            s.store(v, &mut out);
            s.prefetch(&a, 100);
            (out, s.madd(3.0, 0.5, 1.0))
        }
        dispatch! { fn both = check(out: &mut Vec<([f32; 8], f32)>) }
        fn check<S: Simd>(s: S, out: &mut Vec<([f32; 8], f32)>) {
            out.push(run(s));
        }
        let mut got = Vec::new();
        for isa in all_isas() {
            both(isa, &mut got);
        }
        let want: [f32; 8] =
            std::array::from_fn(|i| i as f32 * 0.5 * (1.0 - i as f32 * 0.25) + 2.0);
        for (v, m) in got {
            assert_eq!(v, want);
            assert_eq!(m, 2.5);
        }
        assert_eq!(Isa::detect(), *Isa::available().last().unwrap());
    }
}
