//! String interning for the few distinct values a column holds (models, cwds, branches).

use std::collections::HashMap;

/// Index of an interned string; `NONE` stands for a missing value.
pub type StringId = u32;
pub const NONE: StringId = u32::MAX;

#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Box<str>, StringId, foldhash::fast::RandomState>,
    strings: Vec<Box<str>>,
    /// The id returned last: a log's lines mostly repeat the session, cwd and model of the
    /// line before, and comparing with it is cheaper than hashing.
    last: Option<StringId>,
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> StringId {
        if let Some(last) = self.last
            && *self.strings[last as usize] == *text
        {
            return last;
        }
        let id = match self.ids.get(text) {
            Some(&id) => id,
            None => {
                let id = StringId::try_from(self.strings.len()).unwrap_or(NONE - 1);
                self.strings.push(text.into());
                self.ids.insert(text.into(), id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    pub fn intern_option(&mut self, text: Option<&str>) -> StringId {
        text.map_or(NONE, |text| self.intern(text))
    }

    /// The strings in id order.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(|text| &**text)
    }

    /// Ids of `other`'s strings in `self`, interning the ones `self` lacks.
    pub fn absorb(&mut self, other: &Interner) -> Vec<StringId> {
        other.strings.iter().map(|text| self.intern(text)).collect()
    }
}
