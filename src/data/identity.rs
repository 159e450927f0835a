//! Identity merge: rows that share any identifier (email, phone, user id, …) are one person.
//! Union-find over identifiers, with path halving and union by size.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// All identifiers seen, and which of them belong together. Each identifier's bytes are stored
/// once, in `keys`; the hash table holds only node numbers (one allocation per new identifier).
#[derive(Default)]
pub struct IdentityGraph {
    index: HashTable<u32>,
    keys: Vec<Box<[u8]>>,
    parent: Vec<u32>,
    size: Vec<u32>,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for IdentityGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityGraph")
            .field("identifiers", &self.keys.len())
            .finish()
    }
}

/// The persons found: a dense person number per identifier and each person's canonical identifier.
#[derive(Debug)]
pub struct Persons {
    /// Person number for each identifier node.
    pub of_node: Vec<u32>,
    /// For each person, its smallest `column=value` identifier (stable under row order).
    pub canonical: Vec<Box<[u8]>>,
}

impl IdentityGraph {
    /// Returns the node of identifier `value` in id column `column`, adding it if new.
    pub fn node(&mut self, column: &str, value: &[u8]) -> u32 {
        self.scratch.clear();
        self.scratch.extend_from_slice(column.as_bytes());
        self.scratch.push(b'=');
        self.scratch.extend_from_slice(value);
        let hash = FxBuildHasher.hash_one(self.scratch.as_slice());
        let keys = &self.keys;
        if let Some(&n) = self
            .index
            .find(hash, |&i| *keys[i as usize] == *self.scratch)
        {
            return n;
        }
        let n = self.keys.len() as u32;
        let keys = &self.keys;
        self.index
            .insert_unique(hash, n, |&i| FxBuildHasher.hash_one(&*keys[i as usize]));
        self.keys.push(self.scratch.as_slice().into());
        self.parent.push(n);
        self.size.push(1);
        n
    }

    /// The node of identifier `value` in id column `column`, if it has been seen.
    pub fn lookup(&self, column: &str, value: &[u8]) -> Option<u32> {
        let mut key = Vec::with_capacity(column.len() + 1 + value.len());
        key.extend_from_slice(column.as_bytes());
        key.push(b'=');
        key.extend_from_slice(value);
        let hash = FxBuildHasher.hash_one(key.as_slice());
        self.index
            .find(hash, |&i| *self.keys[i as usize] == *key)
            .copied()
    }

    /// Number of distinct identifiers.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no identifier has been seen.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let grand = self.parent[self.parent[n as usize] as usize];
            self.parent[n as usize] = grand;
            n = grand;
        }
        n
    }

    /// Records that two identifiers belong to the same person.
    pub fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }

    /// Numbers persons densely in order of their first-seen identifier.
    pub fn persons(&mut self) -> Persons {
        let n = self.len();
        let mut person_of_root = vec![u32::MAX; n];
        let mut of_node = Vec::with_capacity(n);
        let mut canonical: Vec<Box<[u8]>> = Vec::new();
        for node in 0..n as u32 {
            let root = self.find(node) as usize;
            if person_of_root[root] == u32::MAX {
                person_of_root[root] = canonical.len() as u32;
                canonical.push(self.keys[node as usize].clone());
            }
            let p = person_of_root[root];
            if self.keys[node as usize] < canonical[p as usize] {
                canonical[p as usize] = self.keys[node as usize].clone();
            }
            of_node.push(p);
        }
        Persons { of_node, canonical }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_merge_transitively() {
        let mut g = IdentityGraph::default();
        let email = g.node("email", b"ann@example.com");
        let phone = g.node("phone", b"555");
        let user = g.node("user_id", b"a1");
        let other = g.node("email", b"bob@example.com");
        g.union(email, phone);
        g.union(user, phone);
        let p = g.persons();
        assert_eq!(p.canonical.len(), 2);
        assert_eq!(p.of_node[email as usize], p.of_node[user as usize]);
        assert_ne!(p.of_node[email as usize], p.of_node[other as usize]);
        assert_eq!(&*p.canonical[0], b"email=ann@example.com");
        // the same value in another column is another identifier
        assert_ne!(g.node("phone", b"a1"), user);
    }
}
