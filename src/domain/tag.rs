//! Tags: per-user names on tasks, one tag per name ignoring case.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::body::{self, Fields, ParseResult};
use crate::error::{ApiError, FieldError};

pub const TAG_MAX: usize = 50;
pub const TAGS_PER_TASK: usize = 20;

/// A tag in use, with how many of the user's tasks carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tag {
    #[schema(example = "Errands")]
    pub name: String,
    pub count: i64,
}

/// What names one tag: the name case-folded, as categories do.
pub fn tag_key(name: &str) -> String {
    name.to_lowercase()
}

/// One tag name: at most 50 characters as sent (the bound the OpenAPI `maxLength` states),
/// trimmed, not empty, no control characters, no commas.
pub fn tag_name(raw: &str) -> Result<String, &'static str> {
    if raw.chars().count() > TAG_MAX {
        return Err("Tags should have at most 50 characters");
    }
    let name = raw.trim();
    if name.is_empty() {
        return Err("Tags should have at least 1 character");
    }
    if name.chars().any(|c| c.is_control() || c == ',') {
        return Err("Tags should not contain commas or control characters");
    }
    Ok(name.to_owned())
}

/// A task's `tags`: 0..=20 names; spellings of one name collapse into the first.
pub fn tag_list(v: &Value) -> ParseResult<Vec<String>> {
    let items = v
        .as_array()
        .ok_or(("Input should be a valid list".into(), "list_type"))?;
    let mut tags: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let name = tag_name(body::string(item)?).map_err(|msg| (msg.into(), "value_error"))?;
        if !tags.iter().any(|t| tag_key(t) == tag_key(&name)) {
            tags.push(name);
        }
    }
    if tags.len() > TAGS_PER_TASK {
        return Err(("A task should have at most 20 tags".into(), "too_long"));
    }
    Ok(tags)
}

/// Tags as a task lists them: sorted ignoring case.
pub fn sort_tags(tags: &mut [String]) {
    tags.sort_by_cached_key(|t| tag_key(t));
}

/// `PUT /api/{user_id}/tags/{name}`: `{"name": "new"}`.
pub fn parse_rename(body: &Value) -> Result<String, ApiError> {
    let mut f = Fields::of(body)?;
    let name = f.required("name", |v| {
        tag_name(body::string(v)?).map_err(|msg| (msg.into(), "value_error"))
    });
    f.finish(name)
}

/// A `{name}` path segment (already percent-decoded by the router).
pub fn path_name(raw: &str) -> Result<String, ApiError> {
    tag_name(raw).map_err(|msg| ApiError::field(FieldError::new(&["path", "name"], msg, "value_error")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_collapse_spellings_and_keep_bounds() {
        assert_eq!(
            tag_list(&json!([" Work ", "work", "WORK", "home"])).unwrap(),
            ["Work", "home"]
        );
        assert!(tag_list(&json!([])).unwrap().is_empty());
        let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert!(tag_list(&json!(twenty)).is_ok());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(tag_list(&json!(many)).is_err());
        // 21 spellings of one tag are one tag.
        let same: Vec<String> = (0..21)
            .map(|i| if i % 2 == 0 { "a".into() } else { "A".into() })
            .collect();
        assert_eq!(tag_list(&json!(same)).unwrap(), ["a"]);
        for bad in [
            json!(["a,b"]),
            json!(["   "]),
            json!(["x".repeat(51)]),
            json!(["tab\there"]),
            json!([1]),
            json!("a"),
        ] {
            assert!(tag_list(&bad).is_err(), "{bad}");
        }
        assert!(tag_list(&json!(["x".repeat(50)])).is_ok());
    }

    #[test]
    fn sorted_ignoring_case() {
        let mut tags = vec!["beta".to_owned(), "Alpha".to_owned(), "gamma".to_owned()];
        sort_tags(&mut tags);
        assert_eq!(tags, ["Alpha", "beta", "gamma"]);
    }
}
