//! The sync cursor: an opaque token for a place in one user's change order.
//!
//! It carries the place, when it was issued (so that one older than the tombstones kept can be
//! refused with 410) and a digest of its user's id (so that one user's cursor is refused on
//! another's sync). It is not secret: a forged one can only mislead its own user.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::{ObjectKind, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub position: Position,
    /// Milliseconds since the epoch.
    pub issued: i64,
}

fn user_tag(user_id: &str) -> String {
    let digest = Sha256::digest(user_id.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

impl Cursor {
    pub fn encode(&self, user_id: &str) -> String {
        let (kind, id) = match self.position.after {
            Some((kind, id)) => ((kind as i64).to_string(), id.simple().to_string()),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let text = format!(
            "1.{}.{kind}.{id}.{}.{}",
            self.position.change,
            self.issued,
            user_tag(user_id)
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    /// `None` for anything that is not a cursor of this user.
    pub fn decode(token: &str, user_id: &str) -> Option<Self> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let parts: Vec<&str> = text.split('.').collect();
        let [version, change, kind, id, issued, tag] = parts.as_slice() else {
            return None;
        };
        if *version != "1" || *tag != user_tag(user_id) {
            return None;
        }
        let change: i64 = change.parse().ok().filter(|c| *c >= 0)?;
        let after = match (*kind, *id) {
            ("-", "-") => None,
            (kind, id) => Some((ObjectKind::from_code(kind.parse().ok()?)?, Uuid::try_parse(id).ok()?)),
        };
        Some(Self {
            position: Position { change, after },
            issued: issued.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_belongs_to_its_user() {
        let id = Uuid::now_v7();
        for position in [
            Position { change: 0, after: None },
            Position {
                change: 42,
                after: Some((ObjectKind::Task, id)),
            },
        ] {
            let c = Cursor {
                position,
                issued: 1_800_000_000_123,
            };
            let token = c.encode("alice");
            assert_eq!(Cursor::decode(&token, "alice"), Some(c));
            assert_eq!(Cursor::decode(&token, "bob"), None);
        }
        for bad in ["", "garbage", "MS4yLjMuNA", "!!!"] {
            assert_eq!(Cursor::decode(bad, "alice"), None, "{bad:?}");
        }
    }
}
