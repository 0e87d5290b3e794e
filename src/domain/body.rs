//! Reading fields out of a JSON object body, collecting every problem at once (as FastAPI clients
//! expect) and telling a field left out from an explicit `null`.

use std::borrow::Cow;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

use super::Timestamp;

/// A field of a partial update: left out, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The value, when one is given.
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Absent | Self::Null => None,
        }
    }

    /// `None` when left out; `Some(None)` when cleared.
    pub fn into_change(self) -> Option<Option<T>> {
        match self {
            Self::Absent => None,
            Self::Null => Some(None),
            Self::Value(v) => Some(Some(v)),
        }
    }
}

/// A request body's object, with the errors found so far.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// The body must be a JSON object.
    pub fn of(body: &'a Value) -> Result<Self, ApiError> {
        match body {
            Value::Object(object) => Ok(Self {
                object,
                errors: Vec::new(),
            }),
            _ => Err(ApiError::field(FieldError::new(
                &["body"],
                "Input should be a valid dictionary or object",
                "model_attributes_type",
            ))),
        }
    }

    /// Ends reading: every problem found, or the parsed value (`None` only when a problem was
    /// recorded for it).
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ if !self.errors.is_empty() => Err(ApiError::Validation(self.errors)),
            _ => Err(ApiError::internal("a body field failed without an error")),
        }
    }

    fn raw(&self, name: &str) -> Patch<&'a Value> {
        match self.object.get(name) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(v) => Patch::Value(v),
        }
    }

    fn fail(&mut self, name: &'static str, msg: impl Into<Cow<'static, str>>, kind: &'static str) {
        self.errors.push(FieldError::body(name, msg, kind));
    }

    /// A field that may be left out or `null`, parsed by `parse` when present.
    pub fn patch<T>(&mut self, name: &'static str, parse: impl FnOnce(&'a Value) -> ParseResult<T>) -> Patch<T> {
        match self.raw(name) {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => match parse(v) {
                Ok(t) => Patch::Value(t),
                Err((msg, kind)) => {
                    self.fail(name, msg, kind);
                    Patch::Absent
                }
            },
        }
    }

    /// A field that may be left out but never `null`.
    pub fn optional<T>(&mut self, name: &'static str, parse: impl FnOnce(&'a Value) -> ParseResult<T>) -> Option<T> {
        match self.patch(name, parse) {
            Patch::Absent => None,
            Patch::Null => {
                self.null_not_allowed(name);
                None
            }
            Patch::Value(v) => Some(v),
        }
    }

    /// A field that must be present and not `null`.
    pub fn required<T>(&mut self, name: &'static str, parse: impl FnOnce(&'a Value) -> ParseResult<T>) -> Option<T> {
        if self.raw(name).is_absent() {
            self.fail(name, "Field required", "missing");
            return None;
        }
        self.optional(name, parse)
    }

    /// A field that may be left out or `null`, whose parser reports errors at its own `loc`s
    /// (an object with fields of its own).
    pub fn nested<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&'a Value) -> Result<T, Vec<FieldError>>,
    ) -> Patch<T> {
        match self.raw(name) {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => match parse(v) {
                Ok(t) => Patch::Value(t),
                Err(errors) => {
                    self.errors.extend(errors);
                    Patch::Absent
                }
            },
        }
    }

    /// No problem found so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// A problem that involves several fields.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    fn null_not_allowed(&mut self, name: &'static str) {
        self.fail(name, "Input should not be null", "null_not_allowed");
    }
}

/// Parser results carry `(message, type)` for the error list.
pub type ParseResult<T> = Result<T, (Cow<'static, str>, &'static str)>;

pub fn string(v: &Value) -> ParseResult<&str> {
    let s = v
        .as_str()
        .ok_or(("Input should be a valid string".into(), "string_type"))?;
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
    if s.contains('\0') {
        return Err((
            "String should not contain NUL characters".into(),
            "string_pattern_mismatch",
        ));
    }
    Ok(s)
}

pub fn boolean(v: &Value) -> ParseResult<bool> {
    v.as_bool()
        .ok_or(("Input should be a valid boolean".into(), "bool_type"))
}

pub fn uuid(v: &Value) -> ParseResult<Uuid> {
    Uuid::try_parse(string(v)?).map_err(|_| ("Input should be a valid UUID".into(), "uuid_parsing"))
}

pub fn timestamp(v: &Value) -> ParseResult<Timestamp> {
    Timestamp::parse_rfc3339(string(v)?).ok_or((
        "Input should be an RFC 3339 date-time with a time zone offset".into(),
        "datetime_parsing",
    ))
}

/// A string of `min..=max` characters after trimming surrounding white space.
///
/// The upper bound applies to the string as sent, so it means what the OpenAPI `maxLength` says.
pub fn trimmed(v: &Value, min: usize, max: usize) -> ParseResult<String> {
    let raw = string(v)?;
    let s = raw.trim();
    if s.chars().count() < min {
        Err((
            format!("String should have at least {min} character(s)").into(),
            "string_too_short",
        ))
    } else if raw.chars().count() > max {
        Err((
            format!("String should have at most {max} characters").into(),
            "string_too_long",
        ))
    } else {
        Ok(s.to_owned())
    }
}

/// A string of at most `max` characters, kept as sent.
pub fn bounded(v: &Value, max: usize) -> ParseResult<String> {
    let s = string(v)?;
    if s.chars().count() > max {
        Err((
            format!("String should have at most {max} characters").into(),
            "string_too_long",
        ))
    } else {
        Ok(s.to_owned())
    }
}
