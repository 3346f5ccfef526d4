//! `--shard k/n`: which subjects one job of a Slurm array or Kubernetes indexed job takes.
//! A subject goes to shard `1 + (first 8 bytes of sha256(subject id)) mod n`, so the split
//! does not depend on manifest order, never separates a subject's visits (its comparisons
//! need them together), and stays the same when subjects are added to the manifest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One part of a batch split into `count` parts; `index` is 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// This part, 1 ≤ index ≤ count.
    pub index: usize,
    /// Number of parts.
    pub count: usize,
}

impl Shard {
    /// The whole batch (`1/1`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether `subject` belongs to this shard. A row without a subject (a manifest-wide
    /// issue) belongs to shard 1, so that it is reported once.
    pub fn holds(&self, subject: &str) -> bool {
        if subject.is_empty() {
            return self.index == 1;
        }
        let digest = Sha256::digest(subject.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % self.count as u64) as usize + 1 == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not a shard: expected k/n with 1 ≤ k ≤ n (e.g. 3/8)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subject_is_in_exactly_one_shard_and_the_split_is_balanced() {
        let subjects: Vec<String> = (0..400).map(|i| format!("S{i:04}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|index| Shard { index, count: 4 }).collect();
        for s in &subjects {
            assert_eq!(shards.iter().filter(|shard| shard.holds(s)).count(), 1, "{s}");
        }
        for shard in &shards {
            let n = subjects.iter().filter(|s| shard.holds(s)).count();
            assert!((70..=130).contains(&n), "shard {shard} holds {n} of 400");
        }
        assert!(subjects.iter().all(|s| Shard::WHOLE.holds(s)));
        assert!(shards[0].holds("") && !shards[1].holds(""));
    }

    #[test]
    fn parses_k_of_n_and_rejects_the_rest() {
        assert_eq!("3/8".parse::<Shard>(), Ok(Shard { index: 3, count: 8 }));
        for bad in ["0/4", "5/4", "3", "a/b", "1/0", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
    }
}
