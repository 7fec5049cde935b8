//! The `.licm` model file: magic, version, a JSON directory, raw little-endian tensor data and
//! a CRC-32. Parsing checks every size against the input before allocating.

use lic_entropy::container::Fingerprint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first bytes of every model file.
pub const MODEL_MAGIC: [u8; 4] = *b"LICM";
/// The model file version this build reads and writes.
pub const MODEL_VERSION: u8 = 1;
/// Most tensors a model file may hold.
pub const MAX_TENSORS: usize = 4096;
/// Most elements one tensor may hold (2^28, 1 GiB of f32).
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;
/// Most bytes the JSON directory may take.
const MAX_DIRECTORY_BYTES: usize = 1 << 22;

/// What can be wrong with a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a model file.
    #[error("not a lic model file: expected the magic bytes \"LICM\"")]
    NotModel,
    /// A newer lic wrote the file.
    #[error("unsupported model file version {found}: this build reads version {MODEL_VERSION}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The data ended early.
    #[error("truncated model file: {what} needs {needed} byte(s), {available} left")]
    Truncated {
        /// The part being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The CRC-32 does not match.
    #[error("corrupted model file: CRC-32 is {computed:08X}, the file says {stored:08X}")]
    ChecksumMismatch {
        /// Stored CRC.
        stored: u32,
        /// Computed CRC.
        computed: u32,
    },
    /// The JSON directory is malformed.
    #[error("invalid model file directory: {0}")]
    Directory(String),
    /// A tensor is missing, duplicated or of the wrong type or shape.
    #[error("model tensor `{name}`: {problem}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

/// One named tensor's values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    /// 32-bit floats (the float transforms).
    F32 {
        /// Dimensions.
        shape: Vec<usize>,
        /// `shape.iter().product()` values.
        data: Vec<f32>,
    },
    /// 32-bit integers (the integer entropy networks and CDF tables).
    I32 {
        /// Dimensions.
        shape: Vec<usize>,
        /// `shape.iter().product()` values.
        data: Vec<i32>,
    },
}

impl Tensor {
    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        match self {
            Self::F32 { shape, .. } | Self::I32 { shape, .. } => shape,
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::F32 { data, .. } => data.len(),
            Self::I32 { data, .. } => data.len(),
        }
    }

    fn dtype(&self) -> &'static str {
        match self {
            Self::F32 { .. } => "f32",
            Self::I32 { .. } => "i32",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Directory {
    config: serde_json::Value,
    tensors: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    dtype: String,
    shape: Vec<usize>,
}

/// The name prefix of the temporal networks' tensors (video inter frames), which the
/// fingerprint leaves out.
pub const TEMPORAL_PREFIX: &str = "temporal.";

/// A model: a JSON configuration and named tensors, in a fixed order.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    /// The configuration (architecture and training facts), as the codec wrote it.
    pub config: serde_json::Value,
    tensors: Vec<(String, Tensor)>,
}

impl ModelFile {
    /// An empty model with `config`.
    pub fn new(config: serde_json::Value) -> Self {
        Self {
            config,
            tensors: Vec::new(),
        }
    }

    /// Appends a tensor.
    ///
    /// # Errors
    /// [`Error::Tensor`] if the name is taken or the data does not fill the shape.
    pub fn push(&mut self, name: &str, tensor: Tensor) -> Result<(), Error> {
        if self.get(name).is_some() {
            return Err(tensor_error(name, "appears twice"));
        }
        if element_count(tensor.shape()) != Some(tensor.len() as u64) {
            return Err(tensor_error(
                name,
                format!(
                    "{} values do not fill shape {:?}",
                    tensor.len(),
                    tensor.shape()
                ),
            ));
        }
        self.tensors.push((name.to_owned(), tensor));
        Ok(())
    }

    /// The tensor called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The f32 tensor `name`, checked against `shape`.
    ///
    /// # Errors
    /// [`Error::Tensor`] if it is missing, not f32 or of another shape.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<&[f32], Error> {
        match self.get(name) {
            Some(Tensor::F32 { shape: s, data }) if s == shape => Ok(data),
            other => Err(mismatch(name, "f32", shape, other)),
        }
    }

    /// The i32 tensor `name`, checked against `shape`.
    ///
    /// # Errors
    /// [`Error::Tensor`] if it is missing, not i32 or of another shape.
    pub fn i32(&self, name: &str, shape: &[usize]) -> Result<&[i32], Error> {
        match self.get(name) {
            Some(Tensor::I32 { shape: s, data }) if s == shape => Ok(data),
            other => Err(mismatch(name, "i32", shape, other)),
        }
    }

    /// The tensors in file order.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.tensors.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// The serialised file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let directory = Directory {
            config: self.config.clone(),
            tensors: self
                .tensors
                .iter()
                .map(|(name, t)| Entry {
                    name: name.clone(),
                    dtype: t.dtype().into(),
                    shape: t.shape().to_vec(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&directory).expect("a JSON value always serialises");
        let mut out = Vec::with_capacity(json.len() + 16);
        out.extend_from_slice(&MODEL_MAGIC);
        out.extend_from_slice(&[MODEL_VERSION, 0, 0, 0]);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        for (_, t) in &self.tensors {
            match t {
                Tensor::F32 { data, .. } => data
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
                Tensor::I32 { data, .. } => data
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses a model file.
    ///
    /// # Errors
    /// Every [`Error`] variant; sizes are checked against `bytes` before any allocation.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < 4 || bytes[..4] != MODEL_MAGIC {
            return Err(Error::NotModel);
        }
        let need = |what, needed: usize, available: usize| {
            if needed > available {
                Err(Error::Truncated {
                    what,
                    needed,
                    available,
                })
            } else {
                Ok(())
            }
        };
        need("header", 16, bytes.len())?;
        if bytes[4] != MODEL_VERSION {
            return Err(Error::UnsupportedVersion { found: bytes[4] });
        }
        let (body, crc_bytes) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(crc_bytes.try_into().expect("4 bytes"));
        let computed = crc32fast::hash(body);
        if stored != computed {
            return Err(Error::ChecksumMismatch { stored, computed });
        }
        let json_len = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes")) as usize;
        if json_len > MAX_DIRECTORY_BYTES {
            return Err(Error::Directory(format!(
                "directory of {json_len} bytes exceeds {MAX_DIRECTORY_BYTES}"
            )));
        }
        need("directory", json_len, body.len() - 12)?;
        let directory: Directory = serde_json::from_slice(&body[12..12 + json_len])
            .map_err(|e| Error::Directory(e.to_string()))?;
        if directory.tensors.len() > MAX_TENSORS {
            return Err(Error::Directory(format!(
                "{} tensors exceed {MAX_TENSORS}",
                directory.tensors.len()
            )));
        }
        let mut data = &body[12 + json_len..];
        let mut file = Self::new(directory.config);
        for entry in directory.tensors {
            let count = element_count(&entry.shape)
                .filter(|&c| c <= MAX_TENSOR_ELEMENTS)
                .ok_or_else(|| tensor_error(&entry.name, "shape too large"))?
                as usize;
            need("tensor data", count * 4, data.len())?;
            let (raw, rest) = data.split_at(count * 4);
            data = rest;
            let words = raw
                .chunks_exact(4)
                .map(|c| <[u8; 4]>::try_from(c).expect("4 bytes"));
            let tensor = match entry.dtype.as_str() {
                "f32" => Tensor::F32 {
                    shape: entry.shape,
                    data: words.map(f32::from_le_bytes).collect(),
                },
                "i32" => Tensor::I32 {
                    shape: entry.shape,
                    data: words.map(i32::from_le_bytes).collect(),
                },
                other => {
                    return Err(tensor_error(
                        &entry.name,
                        format!("unknown dtype `{other}` (expected f32 or i32)"),
                    ));
                }
            };
            file.push(&entry.name, tensor)?;
        }
        if !data.is_empty() {
            return Err(Error::Directory(format!(
                "{} byte(s) of tensor data left over",
                data.len()
            )));
        }
        Ok(file)
    }

    /// The model's identity in `.lic` headers: the first 8 bytes of the SHA-256 of its file
    /// without its temporal networks (the tensors named [`TEMPORAL_PREFIX`]`…`). Adding
    /// temporal networks to a model keeps the images and intra frames it wrote decodable.
    pub fn fingerprint(&self) -> Fingerprint {
        if self.has_temporal() {
            let mut base = self.clone();
            base.tensors
                .retain(|(n, _)| !n.starts_with(TEMPORAL_PREFIX));
            return base.fingerprint();
        }
        self.full_fingerprint()
    }

    /// The identity of the whole file, temporal networks included: what a video's inter
    /// frames need. Equal to [`Self::fingerprint`] for a model without temporal networks.
    pub fn full_fingerprint(&self) -> Fingerprint {
        let digest = Sha256::digest(self.to_bytes());
        let mut f = [0u8; 8];
        f.copy_from_slice(&digest[..8]);
        Fingerprint(f)
    }

    /// Whether the file holds temporal networks (for video inter frames).
    pub fn has_temporal(&self) -> bool {
        self.tensors
            .iter()
            .any(|(n, _)| n.starts_with(TEMPORAL_PREFIX))
    }
}

fn element_count(shape: &[usize]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
}

fn tensor_error(name: &str, problem: impl Into<String>) -> Error {
    Error::Tensor {
        name: name.to_owned(),
        problem: problem.into(),
    }
}

fn mismatch(name: &str, dtype: &str, shape: &[usize], found: Option<&Tensor>) -> Error {
    let problem = match found {
        None => format!("missing (expected {dtype} {shape:?})"),
        Some(t) => format!(
            "expected {dtype} {shape:?}, found {} {:?}",
            t.dtype(),
            t.shape()
        ),
    };
    tensor_error(name, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelFile {
        let mut f = ModelFile::new(serde_json::json!({"n": 4}));
        f.push(
            "a",
            Tensor::F32 {
                shape: vec![2, 2],
                data: vec![1.0, -2.5, 0.0, 3.25],
            },
        )
        .unwrap();
        f.push(
            "b",
            Tensor::I32 {
                shape: vec![3],
                data: vec![-7, 0, i32::MAX],
            },
        )
        .unwrap();
        f
    }

    #[test]
    fn round_trip_and_lookup() {
        let f = sample();
        let back = ModelFile::from_bytes(&f.to_bytes()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.f32("a", &[2, 2]).unwrap()[3], 3.25);
        assert!(back.f32("a", &[4]).is_err());
        assert!(back.i32("a", &[2, 2]).is_err());
        assert!(back.i32("missing", &[1]).is_err());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(
                ModelFile::from_bytes(&bytes[..len]).is_err(),
                "length {len}"
            );
        }
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(ModelFile::from_bytes(&b).is_err(), "bit {i}");
        }
    }

    #[test]
    fn temporal_networks_keep_the_fingerprint_and_change_the_full_one() {
        let f = sample();
        assert_eq!(f.fingerprint(), f.full_fingerprint());
        let mut g = sample();
        g.push(
            "temporal.c1.weight",
            Tensor::I32 {
                shape: vec![1],
                data: vec![7],
            },
        )
        .unwrap();
        assert!(g.has_temporal() && !f.has_temporal());
        assert_eq!(g.fingerprint(), f.fingerprint());
        assert_ne!(g.full_fingerprint(), f.full_fingerprint());
    }

    #[test]
    fn fingerprint_depends_on_every_value() {
        let f = sample();
        let mut g = sample();
        g.tensors[1].1 = Tensor::I32 {
            shape: vec![3],
            data: vec![-7, 1, i32::MAX],
        };
        assert_ne!(f.fingerprint(), g.fingerprint());
        assert_eq!(f.fingerprint(), sample().fingerprint());
    }

    #[test]
    fn bad_pushes_are_refused() {
        let mut f = sample();
        assert!(
            f.push(
                "a",
                Tensor::F32 {
                    shape: vec![1],
                    data: vec![0.0]
                }
            )
            .is_err()
        );
        assert!(
            f.push(
                "c",
                Tensor::F32 {
                    shape: vec![2],
                    data: vec![0.0]
                }
            )
            .is_err()
        );
    }
}
