//! Many items gathered under fewer keys (sessions by person, team or account; shares by
//! outcome): hashed while gathering and sorted once at the end. A B-tree filled item by item
//! compares every key with a dozen others; over tens of thousands of sessions, string compares
//! were the top symbol of a server's new reports.

use std::collections::BTreeMap;
use std::hash::Hash;

/// `items` gathered by key, keys in order, each group's items in the order they came.
pub fn sorted_groups<K: Hash + Ord, T>(items: impl IntoIterator<Item = (K, T)>) -> BTreeMap<K, Vec<T>> {
    let mut groups: foldhash::HashMap<K, Vec<T>> = Default::default();
    for (key, item) in items {
        groups.entry(key).or_default().push(item);
    }
    groups.into_iter().collect()
}

/// One value per key, folded from `items` in the order they came, keys in order.
pub fn sorted_folds<K: Hash + Ord, I, V: Default>(
    items: impl IntoIterator<Item = (K, I)>,
    mut fold: impl FnMut(&mut V, I),
) -> BTreeMap<K, V> {
    let mut folds: foldhash::HashMap<K, V> = Default::default();
    for (key, item) in items {
        fold(folds.entry(key).or_default(), item);
    }
    folds.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_what_a_b_tree_filled_in_order_holds() {
        let keys = ["b", "a", "c", "a", "b", "b", "", "a"];
        let mut expected: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, key) in keys.iter().enumerate() {
            expected.entry(key).or_default().push(index);
        }
        assert_eq!(sorted_groups(keys.iter().copied().zip(0..)), expected);
        let sums = sorted_folds(keys.iter().copied().zip(0..), |sum: &mut Vec<usize>, index| sum.push(index * 10));
        let tens: BTreeMap<&str, Vec<usize>> =
            expected.into_iter().map(|(key, list)| (key, list.into_iter().map(|i| i * 10).collect())).collect();
        assert_eq!(sums, tens);
    }
}
