//! Canonical JSON and SHA-256: the one byte form every audit hash is taken over, so a record
//! or a result hashes the same whoever serialises it, in whatever key order.
//!
//! Canonical form: objects with keys sorted by byte order, no whitespace, strings escaped
//! and numbers written as `serde_json` writes them (shortest form that reads back exactly).

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `value` as canonical JSON text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of the canonical JSON of `value`.
pub fn canonical_sha256(value: &Value) -> String {
    sha256_hex(canonical_json(value).as_bytes())
}

/// Lower-case hex SHA-256 of a file's bytes, read in blocks.
///
/// # Errors
/// The I/O error if the file cannot be opened or read.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of the canonical JSON of `result` with the run-dependent fields removed.
///
/// `run_dependent` lists JSON pointers (`/timings_ms`, `/input/path`) to fields that differ
/// between identical runs (wall times, paths as typed); a pointer that does not exist in the
/// result is ignored. Everything else must be reproduced exactly for the hash to match.
///
/// # Errors
/// The serialiser's error if `result` cannot be turned into JSON (e.g. a map with non-string keys).
pub fn result_sha256<T: Serialize + ?Sized>(result: &T, run_dependent: &[&str]) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(result)?;
    for pointer in run_dependent {
        remove_pointer(&mut value, pointer);
    }
    Ok(canonical_sha256(&value))
}

/// Removes the field `pointer` (`/a/b`) points at, if it exists.
fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.remove(key);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_canonical_form() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2.5, "x"], "x": null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,2.5,"x"]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":null,"y":[1,2.5,"x"]},"b":1}"#);
        assert_eq!(canonical_json(&a), canonical_json(&b));
    }

    #[test]
    fn floats_survive_a_round_trip_through_text() {
        let value = json!({"w": 0.1 + 0.2, "v": 1.0 / 3.0, "u": 4.8, "t": 5.0, "s": 1e-300});
        let text = canonical_json(&value);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&back), text);
    }

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn run_dependent_fields_do_not_enter_the_result_hash() {
        let a = json!({"count": 3, "timings_ms": {"x": 1.0}, "input": {"path": "a.png", "sha256": "s"}});
        let b = json!({"count": 3, "timings_ms": {"x": 9.0}, "input": {"path": "/b/a.png", "sha256": "s"}});
        let c = json!({"count": 4, "timings_ms": {"x": 1.0}, "input": {"path": "a.png", "sha256": "s"}});
        let excluded = ["/timings_ms", "/input/path", "/no/such"];
        let hash = |v| result_sha256(&v, &excluded).unwrap();
        assert_eq!(hash(a.clone()), hash(b));
        assert_ne!(hash(a), hash(c));
    }
}
