//! File names for subjects and visits: ids from a manifest may hold spaces, slashes or other
//! characters a file system (or a shell script) does not like, and two ids must never map to
//! the same file.

use sha2::{Digest, Sha256};

/// `id` as a file name: ASCII letters, digits, `.`, `_` and `-` kept, anything else `_`; when
/// anything had to change (or the name would be empty or hidden) a short hash of the id is
/// appended, so distinct ids stay distinct.
pub fn file_safe(id: &str) -> String {
    let kept: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if kept == id && !id.is_empty() && !id.starts_with('.') {
        return kept;
    }
    let digest = Sha256::digest(id.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", kept.trim_start_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_kept_and_others_stay_distinct() {
        assert_eq!(file_safe("S001"), "S001");
        assert_eq!(file_safe("week-12.a_b"), "week-12.a_b");
        let (a, b) = (file_safe("S 1"), file_safe("S_1"));
        assert!(a.starts_with("S_1-") && a != b, "{a} {b}");
        assert!(!file_safe("../x").contains('/'));
        assert!(!file_safe("..").starts_with('.'));
        assert!(!file_safe("").is_empty());
    }
}
