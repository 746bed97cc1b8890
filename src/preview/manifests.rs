//! The manifests `coverbridge plan -f` reads, the way `kubectl apply -f` takes them: files,
//! directories (their `.yaml`, `.yml` and `.json` files, not recursively) and `-` for standard
//! input, each a YAML stream. CoverageBindings, CategoryMappings and Secrets are kept; any other
//! kind is counted and skipped, so a whole GitOps folder can be given.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::resources::manifest::{self, Manifest};
use crate::resources::{CategoryMapping, CoverageBinding, ObjectKey};

/// What the manifests hold.
#[derive(Debug, Default)]
pub struct Manifests {
    /// The bindings, each with its namespace set.
    pub bindings: Vec<CoverageBinding>,
    /// The mappings, each with its namespace set.
    pub mappings: Vec<CategoryMapping>,
    /// Secret values by Secret, then key.
    pub secrets: BTreeMap<ObjectKey, BTreeMap<String, Vec<u8>>>,
    /// Documents of other kinds, by kind (empty for documents without one).
    pub skipped: BTreeMap<String, usize>,
}

/// A source that cannot be read, or a document in it that does not fit its type.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file or directory cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// What was being read.
        path: String,
        /// Why not.
        source: std::io::Error,
    },
    /// A document is not a valid manifest; the message names the field.
    #[error("{path}: {source}")]
    Invalid {
        /// The file it is in.
        path: String,
        /// The document and field.
        source: manifest::LoadError,
    },
    /// A directory holds no manifests.
    #[error("{0}: no .yaml, .yml or .json files")]
    Empty(String),
}

impl Manifests {
    /// Reads every source in order; objects without a namespace land in `namespace`.
    pub fn load(sources: &[String], namespace: &str) -> Result<Self, ManifestError> {
        let mut manifests = Self::default();
        for source in sources {
            for (path, text) in read(source)? {
                let parsed = manifest::parse(&text, namespace)
                    .map_err(|source| ManifestError::Invalid { path: path.clone(), source })?;
                for document in parsed {
                    manifests.add(document, namespace);
                }
            }
        }
        Ok(manifests)
    }

    fn add(&mut self, document: Manifest, namespace: &str) {
        match document {
            Manifest::Binding(mut binding) => {
                binding.metadata.namespace.get_or_insert_with(|| namespace.to_owned());
                self.bindings.push(*binding);
            }
            Manifest::Mapping(mut mapping) => {
                mapping.metadata.namespace.get_or_insert_with(|| namespace.to_owned());
                self.mappings.push(*mapping);
            }
            Manifest::Secret(key, data) => {
                self.secrets.insert(key, data);
            }
            Manifest::Other { kind, .. } => *self.skipped.entry(kind).or_default() += 1,
        }
    }
}

/// The texts behind one `-f` value, each with the path it came from.
fn read(source: &str) -> Result<Vec<(String, String)>, ManifestError> {
    fn failed(path: &Path) -> impl FnOnce(std::io::Error) -> ManifestError + use<> {
        let path = path.display().to_string();
        move |source| ManifestError::Read { path, source }
    }
    if source == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(failed(Path::new("<stdin>")))?;
        return Ok(vec![("<stdin>".into(), text)]);
    }
    let path = Path::new(source);
    if !path.is_dir() {
        let text = std::fs::read_to_string(path).map_err(failed(path))?;
        return Ok(vec![(source.to_owned(), text)]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(failed(path))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json"))
        .collect();
    if files.is_empty() {
        return Err(ManifestError::Empty(source.to_owned()));
    }
    files.sort();
    files
        .into_iter()
        .map(|file| Ok((file.display().to_string(), std::fs::read_to_string(&file).map_err(failed(&file))?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_read_like_kubectl_does_and_other_kinds_are_skipped() {
        let dir = std::env::temp_dir().join(format!("coverbridge-manifests-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        let binding = "apiVersion: coverbridge.io/v1alpha1\nkind: CoverageBinding\nmetadata: {name: b}\nspec: {workOrderId: '1', coverageTypes: [general]}\n";
        std::fs::write(dir.join("a.yaml"), format!("{binding}---\nkind: Deployment\nmetadata: {{name: d}}\n")).unwrap();
        std::fs::write(
            dir.join("b.json"),
            r#"{"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}"#,
        )
        .unwrap();
        std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
        std::fs::write(dir.join("nested/c.yaml"), binding.replace("name: b", "name: nested")).unwrap();

        let manifests = Manifests::load(&[dir.display().to_string()], "team-a").unwrap();
        assert_eq!(manifests.bindings.len(), 1, "nested folders are not read");
        assert_eq!(manifests.bindings[0].metadata.namespace.as_deref(), Some("team-a"));
        assert_eq!(manifests.secrets[&ObjectKey::new("team-a", "s")]["k"], b"v");
        assert_eq!(manifests.skipped["Deployment"], 1);

        std::fs::write(dir.join("a.yaml"), binding.replace("coverageTypes: [general]", "coverageTypes: [flood]"))
            .unwrap();
        let error = Manifests::load(&[dir.display().to_string()], "team-a").unwrap_err().to_string();
        assert!(error.contains("a.yaml: document 1: spec.coverageTypes[0]"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
