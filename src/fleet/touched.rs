//! Which stored rows of a gate a call has made out of date: its waiting requests', its leases',
//! and (keyed by `()`) its health book's.

use std::collections::BTreeSet;

/// Keys whose stored row is out of date. Not part of the owner's value: two gates (lines,
/// health books) with the same contents are equal whatever each has yet to write.
#[derive(Debug, Clone)]
pub(crate) struct Touched<K>(BTreeSet<K>);

impl<K> Default for Touched<K> {
    fn default() -> Self {
        Self(BTreeSet::new())
    }
}

impl<K: Ord> Touched<K> {
    /// Marks `key`'s row out of date
    pub(crate) fn insert(&mut self, key: K) {
        self.0.insert(key);
    }

    /// The keys marked since the last take, in order; clears the record
    pub(crate) fn take(&mut self) -> BTreeSet<K> {
        std::mem::take(&mut self.0)
    }
}

impl<K> PartialEq for Touched<K> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<K> Eq for Touched<K> {}
