//! Secrets (API keys, tokens, webhook secrets): loaded from the environment or a mounted file,
//! and impossible to print by accident.

use std::fmt;
use std::path::PathBuf;

/// A secret value. `Debug` and `Display` print `[redacted]`; the value is reachable only through
/// [`Secret::expose`], so every use is visible in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why a secret could not be loaded. Never carries the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `<NAME>_FILE` names a file that cannot be read.
    #[error("cannot read {var} from file {path}: {source}")]
    File {
        /// The `_FILE` variable.
        var: String,
        /// The path it names.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Both `<NAME>` and `<NAME>_FILE` are set, so the intended value is ambiguous.
    #[error("both {name} and {name}_FILE are set; set only one")]
    Ambiguous {
        /// The variable name.
        name: String,
    },
    /// The value is empty.
    #[error("{name} is set but empty")]
    Empty {
        /// The variable name.
        name: String,
    },
}

/// Reads secret `name` from the environment variable `name`, or from the file named by
/// `<name>_FILE` (trailing newline trimmed, as mounted Secrets often carry one). `Ok(None)` when
/// neither is set.
pub fn from_env(name: &str) -> Result<Option<Secret>, SecretError> {
    from_lookup(name, |key| std::env::var(key).ok())
}

/// [`from_env`] over any variable lookup, so tests need not touch the process environment.
pub fn from_lookup(name: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Secret>, SecretError> {
    let file_var = format!("{name}_FILE");
    let value = match (lookup(name), lookup(&file_var)) {
        (Some(_), Some(_)) => {
            return Err(SecretError::Ambiguous { name: name.to_owned() });
        }
        (Some(value), None) => value,
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            let raw =
                std::fs::read_to_string(&path).map_err(|source| SecretError::File { var: file_var, path, source })?;
            raw.trim_end_matches(['\r', '\n']).to_owned()
        }
        (None, None) => return Ok(None),
    };
    if value.is_empty() {
        return Err(SecretError::Empty { name: name.to_owned() });
    }
    Ok(Some(Secret(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("t9k_test_supersecret");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert!(!format!("{:?}", Some(&secret)).contains("supersecret"));
    }

    #[test]
    fn reads_from_variable_or_file() {
        let dir = std::env::temp_dir().join(format!("cb-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("key");
        std::fs::write(&file, "from-file\n").unwrap();

        let env = HashMap::from([("A".to_owned(), "direct".to_owned())]);
        let got = from_lookup("A", |k| env.get(k).cloned()).unwrap().unwrap();
        assert_eq!(got.expose(), "direct");

        let env = HashMap::from([("B_FILE".to_owned(), file.display().to_string())]);
        let got = from_lookup("B", |k| env.get(k).cloned()).unwrap().unwrap();
        assert_eq!(got.expose(), "from-file");

        assert!(from_lookup("C", |_| None).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rejects_ambiguous_empty_and_unreadable() {
        let env = HashMap::from([
            ("A".to_owned(), "x".to_owned()),
            ("A_FILE".to_owned(), "/nonexistent".to_owned()),
            ("E".to_owned(), String::new()),
            ("F_FILE".to_owned(), "/nonexistent/secret".to_owned()),
        ]);
        let lookup = |k: &str| env.get(k).cloned();
        assert!(matches!(from_lookup("A", lookup), Err(SecretError::Ambiguous { .. })));
        assert!(matches!(from_lookup("E", lookup), Err(SecretError::Empty { .. })));
        let err = from_lookup("F", lookup).unwrap_err();
        assert!(err.to_string().contains("F_FILE"), "{err}");
    }
}
