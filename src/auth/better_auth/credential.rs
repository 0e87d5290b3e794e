//! A Better Auth session credential as it arrives: where it came from, the token, and the
//! signature check.
//!
//! Better Auth signs its session cookie as `token.signature`, the signature being the standard
//! base64 of HMAC-SHA256(token) keyed with `BETTER_AUTH_SECRET`; the cookie value and the
//! bearer plugin's `set-auth-token` are that, URL-encoded or not. The bearer plugin also takes
//! the bare token.

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::Sha256;

/// The session cookie under its two names (`__Secure-` when Better Auth runs on https).
pub const COOKIE_NAMES: [&str; 2] = ["better-auth.session_token", "__Secure-better-auth.session_token"];

/// Session tokens are 32 characters; anything far longer is not one.
const MAX_TOKEN_LEN: usize = 255;

/// Standard base64, with or without its padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bearer,
    Cookie,
}

/// A session credential, not yet checked. Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCredential {
    pub source: Source,
    /// The session token (the part before the dot).
    pub token: String,
    /// The decoded signature, when the credential was signed.
    signature: Option<Vec<u8>>,
}

impl std::fmt::Debug for SessionCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredential")
            .field("source", &self.source)
            .field("signed", &self.signature.is_some())
            .finish_non_exhaustive()
    }
}

/// What the signature check says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    Valid,
    /// A bare token: nothing to check, the token alone is the secret.
    Absent,
    Invalid,
}

impl SessionCredential {
    /// Parses `token`, `token.signature` or their URL-encoded forms; `None` when it is neither.
    /// A cookie must be signed: Better Auth always signs it and refuses it bare; only its
    /// bearer plugin takes the bare token.
    pub fn parse(source: Source, raw: &str) -> Option<Self> {
        let decoded = percent_decode_str(raw.trim()).decode_utf8().ok()?;
        let (token, signature) = match decoded.split_once('.') {
            Some((token, signature)) => (token, Some(BASE64.decode(signature).ok()?)),
            None if source == Source::Cookie => return None,
            None => (decoded.as_ref(), None),
        };
        let plausible = !token.is_empty()
            && token.len() <= MAX_TOKEN_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| Self {
            source,
            token: token.to_owned(),
            signature,
        })
    }

    /// The session cookie's raw value, under either name, from the `Cookie` headers.
    pub fn cookie(headers: &HeaderMap) -> Option<&str> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| COOKIE_NAMES.contains(name))
            .map(|(_, value)| value)
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// HMAC-SHA256 of the token with the secret, compared in constant time.
    pub fn check_signature(&self, secret: &[u8]) -> Signature {
        let Some(signature) = &self.signature else {
            return Signature::Absent;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return Signature::Invalid;
        };
        mac.update(self.token.as_bytes());
        match mac.verify_slice(signature) {
            Ok(()) => Signature::Valid,
            Err(_) => Signature::Invalid,
        }
    }

    /// The signed form, URL-encoded as Better Auth puts it in its cookie.
    pub fn cookie_value(&self) -> Option<String> {
        let signature = self.signature.as_ref()?;
        let signed = format!(
            "{}.{}",
            self.token,
            base64::engine::general_purpose::STANDARD.encode(signature)
        );
        Some(percent_encoding::utf8_percent_encode(&signed, percent_encoding::NON_ALPHANUMERIC).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SECRET: &[u8] = b"test-secret-0123456789abcdef-0123456789";

    fn signed(token: &str, secret: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(token.as_bytes());
        format!(
            "{token}.{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn signed_bare_and_encoded_forms() {
        let token = "Im875vqJbIxslRyV5PzUpXy0iFipgtAv";
        let value = signed(token, SECRET);
        let c = SessionCredential::parse(Source::Bearer, &value).unwrap();
        assert_eq!((c.token.as_str(), c.check_signature(SECRET)), (token, Signature::Valid));
        let encoded = value.replace('=', "%3D").replace('+', "%2B").replace('/', "%2F");
        let c = SessionCredential::parse(Source::Cookie, &encoded).unwrap();
        assert_eq!(c.check_signature(SECRET), Signature::Valid);
        assert_eq!(
            percent_decode_str(&c.cookie_value().unwrap()).decode_utf8().unwrap(),
            value
        );
        let unpadded = value.trim_end_matches('=');
        assert_eq!(
            SessionCredential::parse(Source::Bearer, unpadded)
                .unwrap()
                .check_signature(SECRET),
            Signature::Valid
        );
        let bare = SessionCredential::parse(Source::Bearer, token).unwrap();
        assert_eq!(bare.check_signature(SECRET), Signature::Absent);
        assert_eq!(bare.cookie_value(), None);
    }

    #[test]
    fn refuses_forgeries_and_garbage() {
        let token = "Im875vqJbIxslRyV5PzUpXy0iFipgtAv";
        let other = signed(token, b"another-secret-another-secret-xx");
        let c = SessionCredential::parse(Source::Bearer, &other).unwrap();
        assert_eq!(c.check_signature(SECRET), Signature::Invalid);
        // The signature of another token.
        let swapped = format!(
            "{token}.{}",
            signed("AAAAvqJbIxslRyV5PzUpXy0iFipgtAv", SECRET)
                .split_once('.')
                .unwrap()
                .1
        );
        let c = SessionCredential::parse(Source::Bearer, &swapped).unwrap();
        assert_eq!(c.check_signature(SECRET), Signature::Invalid);
        // A truncated signature.
        let short = &signed(token, SECRET)[..40];
        assert!(SessionCredential::parse(Source::Bearer, short)
            .is_none_or(|c| c.check_signature(SECRET) == Signature::Invalid));
        for garbage in ["", ".", "tok en", "tok.!!!", "%ff%fe", &"a".repeat(300)] {
            assert_eq!(SessionCredential::parse(Source::Bearer, garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn cookie_under_either_name() {
        let value = signed("abc123", SECRET).replace('=', "%3D");
        for name in COOKIE_NAMES {
            let mut headers = HeaderMap::new();
            headers.insert(
                COOKIE,
                HeaderValue::from_str(&format!("theme=dark; {name}={value}; other=1")).unwrap(),
            );
            let c = SessionCredential::parse(Source::Cookie, SessionCredential::cookie(&headers).unwrap()).unwrap();
            assert_eq!((c.source, c.token.as_str()), (Source::Cookie, "abc123"));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("better-auth.session_data=x; theme=dark"),
        );
        assert_eq!(SessionCredential::cookie(&headers), None);
        // A bare token is a bearer credential only.
        assert_eq!(SessionCredential::parse(Source::Cookie, "abc123"), None);
        assert!(SessionCredential::parse(Source::Bearer, "abc123").is_some());
    }
}
