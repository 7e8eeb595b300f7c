//! One page of a listing, as GCS's XML API (`list-type=2`) computes it: names in order, names
//! under a delimiter rolled up into common prefixes, at most `max_keys` entries (objects and
//! prefixes together) per page, and an opaque token to resume after the last entry.

use std::ops::Bound;

use super::state::{Bucket, Object};

/// What the caller asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Only names strictly after this one (`start-after`).
    pub start_after: Option<String>,
    /// `continuation-token` from the previous page.
    pub token: Option<String>,
    pub max_keys: usize,
}

/// One page.
#[derive(Debug)]
pub(crate) struct ListPage<'a> {
    pub objects: Vec<(&'a str, &'a Object)>,
    pub prefixes: Vec<String>,
    pub next_token: Option<String>,
}

/// An entry of the listing: an object, or a prefix standing for every name under it.
enum Entry<'a> {
    Object(&'a str, &'a Object),
    Prefix(String),
}

impl Entry<'_> {
    fn name(&self) -> &str {
        match self {
            Entry::Object(name, _) => name,
            Entry::Prefix(prefix) => prefix,
        }
    }
}

/// Compute the page; `None` if the token is not one this server issued.
pub(crate) fn list_page<'a>(bucket: &'a Bucket, query: &ListQuery) -> Option<ListPage<'a>> {
    let resume_after = match &query.token {
        Some(token) => Some(decode_token(token)?),
        None => None,
    };
    let prefix = query.prefix.as_str();
    let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());
    let mut entries = bucket
        .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(|(name, _)| name.starts_with(prefix))
        .filter(|(name, _)| query.start_after.as_deref() < Some(name.as_str()))
        .map(|(name, object)| {
            let rest = &name[prefix.len()..];
            match delimiter.and_then(|d| rest.find(d).map(|i| i + d.len())) {
                Some(end) => Entry::Prefix(format!("{prefix}{}", &rest[..end])),
                None => Entry::Object(name.as_str(), object),
            }
        })
        .filter(|entry| resume_after.as_deref() < Some(entry.name()))
        .peekable();

    let mut page = ListPage {
        objects: Vec::new(),
        prefixes: Vec::new(),
        next_token: None,
    };
    let mut taken = 0;
    let mut last = String::new();
    while let Some(entry) = entries.next() {
        if taken == query.max_keys.max(1) {
            page.next_token = Some(encode_token(&last));
            break;
        }
        last = entry.name().to_string();
        taken += 1;
        match entry {
            Entry::Object(name, object) => page.objects.push((name, object)),
            Entry::Prefix(prefix) => page.prefixes.push(prefix),
        }
        // Names under one prefix are adjacent in name order, so a rolled-up prefix repeats
        // only in a run: skip the run.
        while matches!(entries.peek(), Some(Entry::Prefix(p)) if *p == last) {
            entries.next();
        }
    }
    Some(page)
}

fn encode_token(last: &str) -> String {
    hex::encode(last)
}

fn decode_token(token: &str) -> Option<String> {
    String::from_utf8(hex::decode(token).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::state::Store;
    use super::*;

    fn bucket(names: &[&str]) -> Bucket {
        let mut store = Store::new();
        store.create_bucket("b");
        for name in names {
            store.put("b", name, Bytes::new(), vec![], None).unwrap();
        }
        store.bucket("b").unwrap().clone()
    }

    fn all_pages(bucket: &Bucket, mut query: ListQuery) -> Vec<(Vec<String>, Vec<String>)> {
        let mut pages = Vec::new();
        loop {
            let page = list_page(bucket, &query).unwrap();
            let names = page.objects.iter().map(|(n, _)| n.to_string()).collect();
            pages.push((names, page.prefixes.clone()));
            match page.next_token {
                Some(token) => query.token = Some(token),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_cover_every_name_once_in_order() {
        let b = bucket(&["a/1", "a/2", "a/3", "b", "c/1"]);
        let query = ListQuery {
            max_keys: 2,
            ..Default::default()
        };
        let names: Vec<String> = all_pages(&b, query)
            .into_iter()
            .flat_map(|(objects, _)| objects)
            .collect();
        assert_eq!(names, ["a/1", "a/2", "a/3", "b", "c/1"]);
    }

    #[test]
    fn delimiter_rolls_up_prefixes_across_pages() {
        let b = bucket(&["p/a/1", "p/a/2", "p/b", "p/c/1", "p/d", "q"]);
        let query = ListQuery {
            prefix: "p/".into(),
            delimiter: Some("/".into()),
            max_keys: 1,
            ..Default::default()
        };
        let pages = all_pages(&b, query);
        let expected: Vec<(Vec<String>, Vec<String>)> = vec![
            (vec![], vec!["p/a/".into()]),
            (vec!["p/b".into()], vec![]),
            (vec![], vec!["p/c/".into()]),
            (vec!["p/d".into()], vec![]),
        ];
        assert_eq!(pages, expected);
    }

    #[test]
    fn start_after_skips_earlier_names() {
        let b = bucket(&["a", "b", "c"]);
        let query = ListQuery {
            start_after: Some("a".into()),
            max_keys: 10,
            ..Default::default()
        };
        let page = list_page(&b, &query).unwrap();
        let names: Vec<&str> = page.objects.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["b", "c"]);
        assert!(page.next_token.is_none());
    }

    #[test]
    fn a_foreign_token_is_refused() {
        let b = bucket(&["a"]);
        let query = ListQuery {
            token: Some("not-hex".into()),
            max_keys: 10,
            ..Default::default()
        };
        assert!(list_page(&b, &query).is_none());
    }
}
