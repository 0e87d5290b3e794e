//! `GET /api/{user_id}/events` (SPEC §9): a server-sent event stream of the owner's changes.
//!
//! A stream starts with `ready` (the current cursor), then sends a `change` for each object
//! that changed, read through sync from where the stream last was whenever the hub says the
//! owner's objects changed. It checks its credential again every few seconds and whenever the
//! account changes, and ends when the token expires or stops admitting it, and at shutdown.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::stream::{self, Stream};
use serde::Serialize;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::openapi as doc;
use crate::app::AppState;
use crate::auth::{AuthUser, OwnerScope};
use crate::domain::sync::Cursor;
use crate::domain::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::events::places::StreamPlace;
use crate::events::StreamHandle;
use crate::store::{ObjectKind, Position};

/// How often a stream checks that its credential still admits it (revocation from anywhere is
/// felt at the latest then).
const RECHECK_EVERY: Duration = Duration::from_secs(5);
/// Comment lines keep proxies from closing an idle stream.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Objects read per sync while catching up.
const CATCH_UP_PAGE: usize = 500;

/// The caller of a stream: the usual credential, or `?access_token=` for `EventSource`, which
/// cannot send headers. The request log never shows a query string.
pub struct StreamCaller {
    owner: OwnerScope,
    credential: Credential,
}

/// What a stream keeps of its request to check it again later: the headers that carry a
/// credential, nothing else (a stream is small; a thousand of them are cheap).
struct Credential {
    authorization: Option<HeaderValue>,
    cookie: Option<HeaderValue>,
}

impl Credential {
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(2);
        if let Some(v) = &self.authorization {
            headers.insert(AUTHORIZATION, v.clone());
        }
        if let Some(v) = &self.cookie {
            headers.insert(COOKIE, v.clone());
        }
        headers
    }
}

fn access_token(parts: &Parts) -> Option<String> {
    form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(name, _)| name == "access_token")
        .map(|(_, value)| value.into_owned())
}

impl FromRequestParts<Arc<AppState>> for StreamCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            if let Some(token) = access_token(parts) {
                let value = HeaderValue::try_from(format!("Bearer {token}"))
                    .map_err(|_| ApiError::Unauthorized("Invalid authorization header"))?;
                parts.headers.insert(AUTHORIZATION, value);
            }
        }
        let owner = OwnerScope::from_request_parts(parts, state).await?;
        // Copied, not cloned: a clone would share (and keep alive) the buffer the request was
        // read into, for as long as the stream lasts.
        let owned = |v: &HeaderValue| HeaderValue::from_bytes(v.as_bytes()).ok();
        let credential = Credential {
            authorization: parts.headers.get(AUTHORIZATION).and_then(owned),
            cookie: parts.headers.get(COOKIE).and_then(owned),
        };
        Ok(Self { owner, credential })
    }
}

/// When a JWT expires: its `exp`, read without checking (the extractor has checked it).
fn jwt_expiry(credential: &Credential) -> Option<Instant> {
    let value = credential.authorization.as_ref()?.to_str().ok()?;
    let token = value.trim().split_once(' ')?.1.trim();
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    let left = exp.saturating_sub(Timestamp::now().as_micros() / 1_000_000);
    Some(Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0)))
}

#[derive(Serialize)]
struct Ready {
    cursor: String,
}

#[derive(Serialize)]
struct Change<'a> {
    cursor: &'a str,
    kind: &'static str,
    id: uuid::Uuid,
    op: &'static str,
}

/// One open stream.
struct Live {
    state: Arc<AppState>,
    user_id: String,
    credential: Credential,
    hub: StreamHandle,
    /// Held for as long as the stream is open; given back when it drops.
    _place: StreamPlace,
    position: Position,
    pending: VecDeque<Event>,
    expires: Option<Instant>,
    recheck: Interval,
    /// A read failed (the database is away): try again at the next check.
    behind: bool,
    needs_ready: bool,
}

fn now_ms() -> i64 {
    Timestamp::now().as_micros() / 1_000
}

impl Live {
    fn cursor(&self, position: Position) -> String {
        Cursor {
            position,
            issued: now_ms(),
        }
        .encode(&self.user_id)
    }

    /// `ready` with the current cursor; the stream goes on from there.
    async fn ready(&mut self) {
        match self.state.store.latest_change(&self.user_id).await {
            Ok(head) => {
                self.position = Position {
                    change: head,
                    after: None,
                };
                let data = Ready {
                    cursor: self.cursor(self.position),
                };
                if let Ok(event) = Event::default().event("ready").json_data(data) {
                    self.pending.push_back(event);
                }
                self.needs_ready = false;
            }
            Err(e) => {
                tracing::debug!(error = %e, "event stream cannot read the current cursor yet");
                self.needs_ready = true;
            }
        }
    }

    /// A `change` for each object changed since the stream's place, in change order.
    async fn catch_up(&mut self) {
        loop {
            let page = match self
                .state
                .store
                .sync(&self.user_id, self.position, CATCH_UP_PAGE, true)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!(error = %e, "event stream cannot read changes yet");
                    self.behind = true;
                    return;
                }
            };
            for entry in &page.entries {
                let cursor = self.cursor(entry.position);
                let data = Change {
                    cursor: &cursor,
                    kind: match entry.kind {
                        ObjectKind::Task => "task",
                        ObjectKind::Category => "category",
                    },
                    id: entry.id,
                    op: if entry.deleted { "delete" } else { "upsert" },
                };
                if let Ok(event) = Event::default().event("change").id(cursor.clone()).json_data(data) {
                    self.pending.push_back(event);
                }
            }
            self.position = page.next.unwrap_or(self.position);
            self.behind = false;
            if !page.more {
                return;
            }
        }
    }

    /// Whether the stream's credential still admits its owner (not expired, not revoked, the
    /// account active). A database that cannot be asked keeps the stream open.
    async fn admitted(&self) -> bool {
        let Ok(request) = Request::builder().uri("/").body(()) else {
            return false;
        };
        let (mut parts, ()) = request.into_parts();
        parts.headers = self.credential.headers();
        match AuthUser::from_request_parts(&mut parts, &self.state).await {
            Ok(user) => user.id == self.user_id,
            // The database, or Better Auth for a session, cannot answer: not a revocation.
            Err(ApiError::Unavailable | ApiError::AuthUnavailable) => true,
            Err(_) => false,
        }
    }

    /// The next event, or `None` when the stream ends.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.pending.capacity() > 16 {
                // After a burst: give the memory back.
                self.pending.shrink_to_fit();
            }
            if *self.hub.shutdown.borrow() {
                return None;
            }
            let expiry = self.expires;
            tokio::select! {
                biased;
                _ = self.hub.shutdown.changed() => return None,
                () = async { tokio::time::sleep_until(expiry.unwrap_or_else(Instant::now)).await }, if expiry.is_some() => return None,
                changed = self.hub.resync.changed() => {
                    if changed.is_err() { return None; }
                    Box::pin(self.ready()).await;
                }
                changed = self.hub.account.changed() => {
                    if changed.is_err() || !Box::pin(self.admitted()).await { return None; }
                }
                changed = self.hub.changes.changed() => {
                    if changed.is_err() { return None; }
                    Box::pin(self.catch_up()).await;
                }
                _ = self.recheck.tick() => {
                    if !Box::pin(self.admitted()).await { return None; }
                    if self.needs_ready {
                        Box::pin(self.ready()).await;
                    } else if self.behind {
                        Box::pin(self.catch_up()).await;
                    }
                }
            }
        }
    }
}

/// Live updates: `ready`, then a `change` per committed change.
#[utoipa::path(
    get,
    path = "/api/{user_id}/events",
    operation_id = "events",
    tag = "sync",
    params(doc::UserPath, doc::EventsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A server-sent event stream (`text/event-stream`) that stays open. \
            First `event: ready` with `data: {\"cursor\": \"…\"}`, the current sync cursor; then, for each \
            committed change, `event: change`, `id: <cursor>`, `data: {\"cursor\": \"…\", \"kind\": \"task\"|\"category\", \
            \"id\": \"…\", \"op\": \"upsert\"|\"delete\"}` (read the object itself, or sync from the cursor before it). \
            Another `ready` means changes may have been missed: sync from your last cursor. A comment line \
            comes at least every 15 s. The stream ends when the token expires or is revoked, and at shutdown.",
            content_type = "text/event-stream", body = String),
        doc::AuthErrors,
        (status = 429, description = "The caller already has `SSE_MAX_PER_USER` streams open (on PostgreSQL, on all instances together); `Retry-After: 5`", body = doc::ErrorDetail),
        doc::ServerErrors,
    )
)]
pub async fn events(State(state): State<Arc<AppState>>, caller: StreamCaller) -> ApiResult<Response> {
    let user_id = caller.owner.user_id().to_owned();
    let hub = state.events.open(&user_id).map_err(|_| ApiError::TooManyStreams)?;
    let place = StreamPlace::claim(&state.store, &state.events, &hub)
        .await?
        .ok_or(ApiError::TooManyStreams)?;
    let mut recheck = tokio::time::interval_at(Instant::now() + RECHECK_EVERY, RECHECK_EVERY);
    recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut live = Live {
        state: state.clone(),
        user_id,
        expires: jwt_expiry(&caller.credential),
        credential: caller.credential,
        hub,
        _place: place,
        position: Position::START,
        pending: VecDeque::new(),
        recheck,
        behind: false,
        needs_ready: false,
    };
    live.ready().await;
    if live.needs_ready {
        return Err(ApiError::Unavailable);
    }
    // The hub was joined before the cursor was read: whatever commits after it is caught up.
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::unfold(live, Live::next));
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT_EVERY))
        .into_response())
}
