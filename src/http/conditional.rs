//! Conditional requests (SPEC §8): strong ETags on single objects, `If-None-Match` on reads,
//! `If-Match` on writes, and weak ETags on lists.
//!
//! An object's ETag is the number of its last change in its owner's change order, so the check
//! `If-Match` asks for is a plain `change_seq = ANY(…)` in the write's own statement.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};
use crate::store::{Expected, StoredResponse, Versioned, Written};

pub static IDEMPOTENT_REPLAYED: header::HeaderName = header::HeaderName::from_static("idempotent-replayed");

/// The strong ETag of an object at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The entity tags of an `If-Match` / `If-None-Match` list (RFC 9110 §8.8.3), or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TagList {
    Any,
    /// (weak, opaque tag without quotes)
    Tags(Vec<(bool, String)>),
}

fn parse_tags(value: &str) -> Option<TagList> {
    let value = value.trim();
    if value == "*" {
        return Some(TagList::Any);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start();
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let inner = rest.strip_prefix('"')?;
        let end = inner.find('"')?;
        let tag = &inner[..end];
        if !tag
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push((weak, tag.to_owned()));
        rest = inner[end + 1..].trim_start();
        match rest.strip_prefix(',') {
            Some(next) => rest = next,
            None if rest.is_empty() => break,
            None => return None,
        }
    }
    (!tags.is_empty()).then_some(TagList::Tags(tags))
}

fn header_tags(headers: &HeaderMap, name: &header::HeaderName) -> Option<Option<TagList>> {
    let values: Vec<&HeaderValue> = headers.get_all(name).iter().collect();
    if values.is_empty() {
        return Some(None);
    }
    let mut all = Vec::new();
    for v in values {
        // Bytes past ASCII are `obs-text`, allowed inside a tag (RFC 9110 §8.8.3): such a tag is
        // well formed, and simply never one of ours.
        match parse_tags(&String::from_utf8_lossy(v.as_bytes()))? {
            TagList::Any => return Some(Some(TagList::Any)),
            TagList::Tags(t) => all.extend(t),
        }
    }
    Some(Some(TagList::Tags(all)))
}

/// The version an opaque tag names, if it is exactly one [`etag`] writes: ETags compare as
/// strings, so `"+2"` or `"02"` are other tags than `"2"` and match nothing.
fn version_of(tag: &str) -> Option<i64> {
    tag.parse::<i64>().ok().filter(|v| v.to_string() == tag)
}

/// `If-Match` on a write: `None` when absent or `*` (the object only has to exist).
pub struct IfMatch(Option<Vec<i64>>);

impl IfMatch {
    pub fn expected(&self) -> Option<Expected<'_>> {
        self.0.as_deref().map(Expected)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let tags = header_tags(&parts.headers, &header::IF_MATCH).ok_or_else(|| {
            ApiError::field(FieldError::new(
                &["header", "If-Match"],
                "If-Match must be * or a list of quoted entity tags",
                "etag_invalid",
            ))
        })?;
        Ok(Self(match tags {
            None | Some(TagList::Any) => None,
            // Strong comparison: a weak tag, or one that is not ours, matches nothing.
            Some(TagList::Tags(tags)) => Some(
                tags.into_iter()
                    .filter(|(weak, _)| !weak)
                    .filter_map(|(_, tag)| version_of(&tag))
                    .collect(),
            ),
        }))
    }
}

/// `If-None-Match` on a read (weak comparison). A malformed one is ignored, as RFC 9110 lets a
/// server do for a condition it cannot evaluate: the full answer is always safe.
pub struct IfNoneMatch(Option<TagList>);

impl IfNoneMatch {
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// Whether `current` (an ETag as [`etag`] or [`list_etag`] writes it) is among the tags.
    pub fn matches(&self, current: &str) -> bool {
        let current = current.strip_prefix("W/").unwrap_or(current).trim_matches('"');
        match &self.0 {
            None => false,
            Some(TagList::Any) => true,
            Some(TagList::Tags(tags)) => tags.iter().any(|(_, t)| t == current),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(header_tags(&parts.headers, &header::IF_NONE_MATCH).flatten()))
    }
}

/// 304 with the ETag, no body.
pub fn not_modified(etag: &str) -> Response {
    with_etag(StatusCode::NOT_MODIFIED.into_response(), etag)
}

/// The response with `etag` as its `ETag` header.
pub fn with_etag(mut res: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The weak ETag of a list: the owner's latest change and the exact query. Any change to the
/// owner's tasks or categories moves the first, so the same answer never carries two tags and a
/// changed answer never keeps one.
pub fn list_etag(latest_change: i64, query: Option<&str>) -> String {
    let digest = Sha256::digest(query.unwrap_or_default().as_bytes());
    let mut tag = format!("W/\"{latest_change}-");
    for b in &digest[..6] {
        tag.push_str(&format!("{b:02x}"));
    }
    tag.push('"');
    tag
}

/// A conditional write's outcome as the contract answers it.
pub fn written<T>(w: Written<T>, not_found: ApiError, stale: ApiError) -> Result<T, ApiError> {
    match w {
        Written::Done(v) => Ok(v),
        Written::NotFound => Err(not_found),
        Written::Stale => Err(stale),
    }
}

/// The answer for one object: its JSON, status, ETag and maybe `Location`, as an idempotency key
/// would keep it.
pub fn answer<T: Serialize>(status: StatusCode, object: &Versioned<T>, location: Option<String>) -> StoredResponse {
    StoredResponse {
        status: status.as_u16(),
        location,
        etag: Some(etag(object.version)),
        body: serde_json::to_vec(&object.value).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

impl IntoResponse for StoredResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut res = (status, self.body).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(v) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert(header::ETAG, v);
        }
        if let Some(v) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, v);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists() {
        assert_eq!(parse_tags("*"), Some(TagList::Any));
        assert_eq!(parse_tags("\"12\""), Some(TagList::Tags(vec![(false, "12".into())])));
        assert_eq!(
            parse_tags(" \"1\" , W/\"2\",\"3\""),
            Some(TagList::Tags(vec![
                (false, "1".into()),
                (true, "2".into()),
                (false, "3".into())
            ]))
        );
        for bad in ["", "12", "\"12", "\"1\" \"2\"", "\"1\",", "W/12", "\"a b\""] {
            assert_eq!(parse_tags(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tags_with_bytes_past_ascii_are_well_formed() {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_bytes(b"\"caf\xe9\"").unwrap();
        headers.insert(header::IF_MATCH, value);
        let Some(Some(TagList::Tags(tags))) = header_tags(&headers, &header::IF_MATCH) else {
            panic!("a well-formed list");
        };
        assert_eq!(tags.len(), 1);
        assert_eq!(version_of(&tags[0].1), None);
    }

    #[test]
    fn only_our_exact_spelling_names_a_version() {
        assert_eq!(version_of("2"), Some(2));
        assert_eq!(version_of("0"), Some(0));
        for other in ["+2", "02", "0002", "-0", " 2", "2 ", "2.0", "1e3", ""] {
            assert_eq!(version_of(other), None, "{other:?}");
        }
    }

    #[test]
    fn list_tags_differ_by_change_and_query() {
        assert_ne!(list_etag(1, None), list_etag(2, None));
        assert_ne!(list_etag(1, Some("completed=true")), list_etag(1, None));
        assert!(list_etag(1, None).starts_with("W/\"1-"));
    }
}
