//! Manifests as `kubectl apply -f` reads them: a YAML stream of documents, each decoded into
//! its type with the field named when it does not fit. Shared by the local runtime (the demo)
//! and `coverbridge plan`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use super::{CategoryMapping, CoverageBinding, ObjectKey};

/// One document of a stream.
#[derive(Clone, Debug)]
pub enum Manifest {
    /// A CoverageBinding.
    Binding(Box<CoverageBinding>),
    /// A CategoryMapping.
    Mapping(Box<CategoryMapping>),
    /// A Secret (a bring-your-own certificate): its key and decoded values.
    Secret(ObjectKey, BTreeMap<String, Vec<u8>>),
    /// Any other kind.
    Other {
        /// Its `kind`; empty when it has none.
        kind: String,
        /// Its 1-based position in the stream, for a message about it.
        index: usize,
    },
}

/// A manifest that cannot be read, with the document and field it is about.
#[derive(Debug, thiserror::Error)]
#[error("document {index}: {message}")]
pub struct LoadError {
    /// 1-based position of the document in its stream (0: the stream itself).
    pub index: usize,
    /// What is wrong, naming the field.
    pub message: String,
}

/// Every non-empty document of a YAML stream, decoded; a Secret without a namespace lands in
/// `namespace` (other objects keep theirs, or none).
pub fn parse(yaml: &str, namespace: &str) -> Result<Vec<Manifest>, LoadError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(yaml).map_err(|e| LoadError { index: 0, message: e.to_string() })?;
    let mut manifests = Vec::with_capacity(docs.len());
    for (i, doc) in docs.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        let err = |message: String| LoadError { index: i + 1, message };
        manifests.push(match doc["kind"].as_str() {
            Some("CoverageBinding") => Manifest::Binding(Box::new(typed(doc).map_err(err)?)),
            Some("CategoryMapping") => Manifest::Mapping(Box::new(typed(doc).map_err(err)?)),
            Some("Secret") => {
                let (key, data) = secret(&doc, namespace).map_err(err)?;
                Manifest::Secret(key, data)
            }
            other => Manifest::Other { kind: other.unwrap_or_default().to_owned(), index: i + 1 },
        });
    }
    Ok(manifests)
}

/// Decodes a document, naming the field that does not fit.
fn typed<T: serde::de::DeserializeOwned>(doc: Value) -> Result<T, String> {
    let name = doc["metadata"]["name"].as_str().map(str::to_owned);
    if name.as_deref().is_none_or(str::is_empty) {
        return Err("metadata.name: required".into());
    }
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        format!("{}: {}", if path == "." { "<root>".to_owned() } else { path }, e.into_inner())
    })
}

/// A Secret's key and values, from `data` (base64) and `stringData`.
fn secret(doc: &Value, namespace: &str) -> Result<(ObjectKey, BTreeMap<String, Vec<u8>>), String> {
    let name = doc["metadata"]["name"].as_str().ok_or("metadata.name: required")?;
    let ns = doc["metadata"]["namespace"].as_str().unwrap_or(namespace);
    let mut data = BTreeMap::new();
    if let Some(map) = doc["data"].as_object() {
        for (k, v) in map {
            let encoded = v.as_str().ok_or_else(|| format!("data.{k}: expected a base64 string"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.split_whitespace().collect::<String>())
                .map_err(|e| format!("data.{k}: not base64: {e}"))?;
            data.insert(k.clone(), bytes);
        }
    }
    if let Some(map) = doc["stringData"].as_object() {
        for (k, v) in map {
            let text = v.as_str().ok_or_else(|| format!("stringData.{k}: expected a string"))?;
            data.insert(k.clone(), text.as_bytes().to_vec());
        }
    }
    Ok((ObjectKey::new(ns, name), data))
}
