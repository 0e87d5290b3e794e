//! Categories: the object and its bodies.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::body::{self, trimmed, Fields, ParseResult};
use super::Timestamp;
use crate::error::ApiError;

pub const NAME_MAX: usize = 100;
pub const DEFAULT_COLOR: &str = "#3B82F6";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Category {
    pub id: Uuid,
    pub user_id: String,
    #[schema(example = "Work")]
    pub name: String,
    #[schema(example = "#3B82F6", pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

fn name(v: &Value) -> ParseResult<String> {
    trimmed(v, 1, NAME_MAX)
}

fn color(v: &Value) -> ParseResult<String> {
    let s = body::string(v)?;
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s.to_owned())
    } else {
        Err((
            "Input should be a colour of the form #RRGGBB".into(),
            "string_pattern_mismatch",
        ))
    }
}

/// The key names are unique by: case folded, so "Work" and "work" collide.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

#[derive(Debug, Clone)]
pub struct NewCategory {
    pub name: String,
    pub color: String,
}

impl NewCategory {
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let name = f.required("name", name);
        let color = f.optional("color", color).unwrap_or_else(|| DEFAULT_COLOR.to_owned());
        f.finish(name.map(|name| Self { name, color }))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub color: Option<String>,
}

impl CategoryChanges {
    pub fn parse(body: &Value, require_name: bool) -> Result<Self, ApiError> {
        let mut f = Fields::of(body)?;
        let name = if require_name {
            f.required("name", name)
        } else {
            f.optional("name", name)
        };
        let color = f.optional("color", color);
        f.finish(Some(Self { name, color }))
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.color.is_none()
    }
}
