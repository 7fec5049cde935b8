//! `f64` as its shortest exact decimal string in JSON: serde_json's default float parsing may
//! be one unit in the last place off, and a resumed run or a model's recorded λ set must read
//! back exactly the numbers that were written (they are compared for equality).

use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// A string written by this module, or a plain JSON number (checkpoints written before
/// exact strings were used).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Exact(String),
    Number(f64),
}

fn parse<E: Error>(v: &Stored) -> Result<f64, E> {
    match v {
        Stored::Exact(s) => s
            .parse()
            .map_err(|_| E::custom(format!("`{s}` is not a number"))),
        Stored::Number(f) => Ok(*f),
    }
}

/// One number (a training checkpoint's learning rate).
pub mod one {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        parse(&Stored::deserialize(d)?)
    }
}

/// A list.
pub mod vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(ToString::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Stored>::deserialize(d)?.iter().map(parse).collect()
    }
}

/// An optional list (with `#[serde(default, skip_serializing_if = "Option::is_none")]`).
pub mod opt_vec {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => vec::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        vec::deserialize(d).map(Some)
    }
}
