//! # lic-models
//!
//! Trained weights with their model cards, and the default model embedded in the binary so
//! that lic works offline. The first weights land with issue "Training"; the weight format
//! and fingerprint with issue "The neural codec".
