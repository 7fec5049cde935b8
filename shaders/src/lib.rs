//! # lic-shaders
//!
//! lic's own GPU kernels, for the operations burn does not provide efficiently. Each kernel
//! will come as a dispatcher, a plain reference implementation and its shader source, with a
//! test asserting the two agree. No kernel is needed yet.
