//! Interned text values of a column (categories, segments, referrer identifiers): each distinct
//! value is stored once and events carry its number.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Number meaning "no value on this row".
pub const NO_LABEL: u32 = u32::MAX;

/// Distinct values in order of first appearance.
#[derive(Default, Clone)]
pub struct Labels {
    index: HashTable<u32>,
    values: Vec<Box<[u8]>>,
}

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Labels")
            .field("values", &self.values.len())
            .finish()
    }
}

impl Labels {
    /// The number of `value`, added if new; `None` once 2³² − 1 values exist.
    pub fn intern(&mut self, value: &[u8]) -> Option<u32> {
        let hash = FxBuildHasher.hash_one(value);
        let values = &self.values;
        if let Some(&n) = self.index.find(hash, |&i| *values[i as usize] == *value) {
            return Some(n);
        }
        let n = u32::try_from(self.values.len())
            .ok()
            .filter(|&n| n != NO_LABEL)?;
        let values = &self.values;
        self.index
            .insert_unique(hash, n, |&i| FxBuildHasher.hash_one(&*values[i as usize]));
        self.values.push(value.into());
        Some(n)
    }

    /// The bytes of value `n`.
    pub fn get(&self, n: u32) -> &[u8] {
        &self.values[n as usize]
    }

    /// The value `n` as text (lossy for invalid UTF-8).
    pub fn text(&self, n: u32) -> String {
        String::from_utf8_lossy(self.get(n)).into_owned()
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value has been seen.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_value_once() {
        let mut l = Labels::default();
        let a = l.intern(b"shoes").unwrap();
        let b = l.intern(b"hats").unwrap();
        assert_eq!(l.intern(b"shoes"), Some(a));
        assert_ne!(a, b);
        assert_eq!(l.text(b), "hats");
        assert_eq!(l.len(), 2);
    }
}
