//! A large document's compact JSON rendered on every core: its one long list in chunks beside
//! the rest, then joined into one buffer of the final size. The bytes are exactly what
//! `serde_json::to_vec` gives for the whole document.

use rayon::prelude::*;
use serde::Serialize;

/// Items per chunk of the long list: large enough that a chunk's own work outweighs the
/// hand-over, small enough that both cores get several.
const CHUNK: usize = 2048;

/// The compact JSON of `document`, whose top-level `key` holds `items`. `document` is
/// serialized as given with that list empty (the caller takes the items out of it), and
/// the items are written in its place.
pub fn with_list<D, T>(document: &D, key: &str, items: &[T]) -> serde_json::Result<Vec<u8>>
where
    D: Serialize + Sync,
    T: Serialize + Sync,
{
    let (head, chunks) = rayon::join(
        || serde_json::to_vec(document),
        || items.par_chunks(CHUNK).map(list_chunk).collect::<serde_json::Result<Vec<Vec<u8>>>>(),
    );
    let (head, chunks) = (head?, chunks?);
    let at = empty_list_at(&head, key).ok_or_else(|| {
        <serde_json::Error as serde::ser::Error>::custom(format!("the document has no empty top-level list {key:?}"))
    })?;
    let length = head.len() + chunks.iter().map(|chunk| chunk.len() + 1).sum::<usize>();
    let mut json = Vec::with_capacity(length);
    json.extend_from_slice(&head[..at]);
    for (index, chunk) in chunks.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        json.extend_from_slice(chunk);
    }
    json.extend_from_slice(&head[at..]);
    Ok(json)
}

/// The items of one chunk, comma-separated, without the brackets.
fn list_chunk<T: Serialize>(items: &[T]) -> serde_json::Result<Vec<u8>> {
    // A session link, the list this is written for, is about 250 bytes.
    let mut out = Vec::with_capacity(items.len() * 256);
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, item)?;
    }
    Ok(out)
}

/// Where the items of the empty list under `key` go: just after its `[`. In compact JSON the
/// bytes `"key":[]` can only be a key and its empty list: a quote inside a string is always
/// escaped, and a string's closing quote is never followed by a letter. The first such key is
/// taken, so the document must have no other empty list under the same key before it.
fn empty_list_at(json: &[u8], key: &str) -> Option<usize> {
    let needle = format!("\"{key}\":[]");
    memchr::memmem::find(json, needle.as_bytes()).map(|found| found + needle.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Clone)]
    struct Item {
        id: String,
        amount: f64,
        tags: Vec<&'static str>,
    }

    #[derive(Serialize, Clone)]
    struct Document {
        before: String,
        list: Vec<Item>,
        after: Vec<u32>,
    }

    fn document(items: usize) -> Document {
        Document {
            // A string holding what the list's key looks like, escaped in the JSON.
            before: "\"list\":[] and \\\"list\\\":[]".into(),
            list: (0..items)
                .map(|i| Item { id: format!("s-{i}\n\"q\""), amount: i as f64 / 3.0, tags: vec!["a", "b"] })
                .collect(),
            after: vec![1, 2, 3],
        }
    }

    #[test]
    fn the_spliced_document_is_the_whole_documents_json() {
        for items in [0, 1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let whole = document(items);
            let mut head = whole.clone();
            let list = std::mem::take(&mut head.list);
            let spliced = with_list(&head, "list", &list).expect("rendered");
            assert_eq!(
                String::from_utf8(spliced).expect("utf-8"),
                serde_json::to_string(&whole).expect("json"),
                "{items} items"
            );
        }
    }

    #[test]
    fn a_document_without_the_empty_list_is_an_error() {
        let whole = document(3);
        let error = with_list(&whole, "list", &whole.list).expect_err("the list was not taken out");
        assert!(error.to_string().contains("\"list\""), "{error}");
    }
}
