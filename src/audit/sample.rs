//! Which records `tricho audit verify` re-runs: a deterministic, seeded sample, so two
//! verifications with the same seed re-run the same records, and a writer cannot know in
//! advance which records will be re-run without knowing the seed.
//!
//! Rule: among the eligible records, take the `N` with the smallest
//! `sha256("tricho-audit-sample:{seed}:{record hash}")` (lower-case hex, compared as text);
//! re-run them in log order.

use std::str::FromStr;

use super::canonical::sha256_hex;

/// Records re-run when no size is given.
pub const DEFAULT_SAMPLE_SIZE: usize = 3;

/// How many records to re-run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSize {
    /// Every eligible record.
    All,
    /// At most this many (0: none).
    Count(usize),
}

impl Default for SampleSize {
    fn default() -> Self {
        Self::Count(DEFAULT_SAMPLE_SIZE)
    }
}

impl FromStr for SampleSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        text.parse()
            .map(Self::Count)
            .map_err(|_| format!("`{text}` is neither a number of records nor `all`"))
    }
}

impl std::fmt::Display for SampleSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => f.write_str("all"),
            Self::Count(n) => write!(f, "{n}"),
        }
    }
}

/// The sampling key of a record with hash `hash`.
pub fn sample_key(seed: u64, hash: &str) -> String {
    sha256_hex(format!("tricho-audit-sample:{seed}:{hash}").as_bytes())
}

/// Positions (into `hashes`) of the sample, in ascending position order.
pub fn choose_sample(hashes: &[&str], size: SampleSize, seed: u64) -> Vec<usize> {
    let mut keyed: Vec<(String, usize)> = hashes
        .iter()
        .enumerate()
        .map(|(i, hash)| (sample_key(seed, hash), i))
        .collect();
    keyed.sort();
    let take = match size {
        SampleSize::All => keyed.len(),
        SampleSize::Count(n) => n.min(keyed.len()),
    };
    let mut chosen: Vec<usize> = keyed.into_iter().take(take).map(|(_, i)| i).collect();
    chosen.sort_unstable();
    chosen
}

/// The rule in words, for reports.
pub fn describe_rule(size: SampleSize, seed: u64) -> String {
    let size = match size {
        SampleSize::All => "all".to_string(),
        SampleSize::Count(n) => format!("the {n}"),
    };
    format!("{size} eligible records with the smallest sha256(\"tricho-audit-sample:{seed}:\" + hash)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_deterministic_seeded_and_bounded() {
        let hashes: Vec<String> = (0..20).map(|i| sha256_hex(&[i])).collect();
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let a = choose_sample(&refs, SampleSize::Count(3), 0);
        assert_eq!(a.len(), 3);
        assert_eq!(a, choose_sample(&refs, SampleSize::Count(3), 0));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let other_seeds: Vec<Vec<usize>> = (1..5).map(|s| choose_sample(&refs, SampleSize::Count(3), s)).collect();
        assert!(other_seeds.iter().any(|s| *s != a), "the seed changes the sample");
        assert_eq!(choose_sample(&refs, SampleSize::All, 0), (0..20).collect::<Vec<_>>());
        assert_eq!(choose_sample(&refs, SampleSize::Count(50), 0).len(), 20);
        assert!(choose_sample(&refs, SampleSize::Count(0), 0).is_empty());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!("all".parse::<SampleSize>(), Ok(SampleSize::All));
        assert_eq!("4".parse::<SampleSize>(), Ok(SampleSize::Count(4)));
        assert!("-1".parse::<SampleSize>().is_err());
    }
}
