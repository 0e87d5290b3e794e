//! Live events (SPEC §9) on both backends: the stream's first `ready`, a `change` per committed
//! change in change order, its credentials, its limit, and its end (token expiry, revocation,
//! shutdown); on PostgreSQL, changes, revocations and the limit across two instances.

mod common;

use std::time::{Duration, Instant};

use common::{join_all, task_url, tasks_url, Backend, TestApp, TestUser};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

backend_tests!(
    a_stream_starts_ready_then_sends_each_change,
    change_cursors_are_sync_cursors,
    a_category_deletion_and_a_tag_rename_send_every_changed_object,
    streams_take_the_token_from_the_query_and_refuse_strangers,
    a_burst_of_concurrent_writes_is_sent_in_full,
    a_password_change_ends_the_stream,
    a_stream_is_never_compressed,
    a_write_whose_client_went_away_is_still_announced,
);

/// One event: (event name, data, id).
type Sse = (String, Value, Option<String>);

/// Reads a `text/event-stream` response event by event.
struct EventStream {
    res: Response,
    buf: String,
}

impl EventStream {
    async fn open(app: &TestApp, user: &TestUser) -> Self {
        Self::open_with(app.as_user(user, Method::GET, &format!("/api/{}/events", user.id))).await
    }

    /// A stream opened with the given request (extra headers, say).
    async fn open_with(request: RequestBuilder) -> Self {
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Self::reading(res)
    }

    /// Reads an open stream's response.
    fn reading(res: Response) -> Self {
        Self {
            res,
            buf: String::new(),
        }
    }

    /// The next event within `within`; `None` if none came; panics if the stream ended.
    async fn next(&mut self, within: Duration) -> Option<Sse> {
        match self.next_or_end(within).await {
            Some(Some(e)) => Some(e),
            Some(None) => panic!("the stream ended"),
            None => None,
        }
    }

    /// `Some(None)` when the stream ended, `None` on timeout.
    async fn next_or_end(&mut self, within: Duration) -> Option<Option<Sse>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut data, mut id) = (String::new(), String::new(), None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_owned());
                    }
                }
                if !event.is_empty() {
                    return Some(Some((event, serde_json::from_str(&data).expect("JSON data"), id)));
                }
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => return Some(None),
            }
        }
    }

    async fn ready(&mut self) -> String {
        let (event, data, _) = self.next(Duration::from_secs(5)).await.expect("ready");
        assert_eq!(event, "ready", "{data}");
        data["cursor"].as_str().expect("cursor").to_owned()
    }

    /// The next `change`, within a second of being asked.
    async fn change(&mut self) -> Value {
        let (event, data, id) = self.next(Duration::from_secs(1)).await.expect("a change within 1 s");
        assert_eq!(event, "change", "{data}");
        assert_eq!(id.as_deref(), data["cursor"].as_str(), "the event id is its cursor");
        data
    }

    /// Whether the stream ends within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_or_end(left).await {
                Some(None) => return true,
                Some(Some(_)) => continue,
                None => return false,
            }
        }
    }
}

/// Compression would hold events back until a buffer fills: a stream is sent as it is, whatever
/// the client accepts, while an ordinary large response beside it is compressed.
async fn a_stream_is_never_compressed(app: &TestApp) {
    let user = app.signup("plain-stream@example.com").await;
    for i in 0..30 {
        app.create_task(&user, json!({"title": format!("a task with a long enough title {i}")}))
            .await;
    }
    let mut stream = EventStream::open_with(
        app.as_user(&user, Method::GET, &format!("/api/{}/events", user.id))
            .header("accept-encoding", "gzip, br, zstd"),
    )
    .await;
    let headers = stream.res.headers();
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    stream.ready().await;
    let task = app.create_task(&user, json!({"title": "sent plain"})).await;
    assert_eq!(change_of(&stream.change().await).1, task["id"].as_str().unwrap());

    let list = app
        .as_user(&user, Method::GET, &format!("{}?limit=100", tasks_url(&user)))
        .header("accept-encoding", "gzip, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert!(list.headers().get("content-encoding").is_some(), "{:?}", list.headers());
}

fn change_of(data: &Value) -> (String, String, String) {
    (
        data["kind"].as_str().unwrap().to_owned(),
        data["id"].as_str().unwrap().to_owned(),
        data["op"].as_str().unwrap().to_owned(),
    )
}

async fn a_stream_starts_ready_then_sends_each_change(app: &TestApp) {
    let user = app.signup("live@example.com").await;
    let before = app.create_task(&user, json!({"title": "before"})).await;
    let mut stream = EventStream::open(app, &user).await;
    let cursor = stream.ready().await;
    let (_, sync) = app
        .call(
            &user,
            Method::GET,
            &format!("/api/{}/sync?since={cursor}", user.id),
            None,
        )
        .await;
    assert_eq!(sync["tasks"], json!([]), "ready's cursor is the current state: {sync}");

    let task = app.create_task(&user, json!({"title": "live"})).await;
    let started = Instant::now();
    let data = stream.change().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        change_of(&data),
        ("task".into(), task["id"].as_str().unwrap().into(), "upsert".into())
    );
    assert!(data.get("title").is_none(), "events carry ids, never contents");

    let (status, _) = app
        .call(
            &user,
            Method::PATCH,
            &format!("{}/complete", task_url(&user, &task)),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(change_of(&stream.change().await).2, "upsert");
    let category = app.create_category(&user, "Live").await;
    assert_eq!(
        change_of(&stream.change().await),
        (
            "category".into(),
            category["id"].as_str().unwrap().into(),
            "upsert".into()
        )
    );
    let (status, _) = app.call(&user, Method::DELETE, &task_url(&user, &before), None).await;
    assert_eq!(status, 204);
    assert_eq!(
        change_of(&stream.change().await),
        ("task".into(), before["id"].as_str().unwrap().into(), "delete".into())
    );
    // A refused write sends nothing.
    let (status, _) = app
        .call(&user, Method::POST, &tasks_url(&user), Some(json!({"title": ""})))
        .await;
    assert_eq!(status, 422);
    assert!(stream.next(Duration::from_millis(700)).await.is_none());
    // Another user's changes never show.
    let other = app.signup("live-other@example.com").await;
    app.create_task(&other, json!({"title": "not yours"})).await;
    assert!(stream.next(Duration::from_millis(700)).await.is_none());
}

async fn change_cursors_are_sync_cursors(app: &TestApp) {
    let user = app.signup("live-cursor@example.com").await;
    let mut stream = EventStream::open(app, &user).await;
    stream.ready().await;
    let first = app.create_task(&user, json!({"title": "one"})).await;
    let after_first = stream.change().await["cursor"].as_str().unwrap().to_owned();
    let second = app.create_task(&user, json!({"title": "two"})).await;
    stream.change().await;
    // Sync from the first event's cursor gives what came after it, and only that.
    let (status, sync) = app
        .call(
            &user,
            Method::GET,
            &format!("/api/{}/sync?since={after_first}", user.id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let ids: Vec<&Value> = sync["tasks"].as_array().unwrap().iter().map(|t| &t["id"]).collect();
    assert_eq!(ids, [&second["id"]]);
    let _ = first;
}

async fn a_category_deletion_and_a_tag_rename_send_every_changed_object(app: &TestApp) {
    let user = app.signup("live-many@example.com").await;
    let category = app.create_category(&user, "Doomed").await;
    let a = app
        .create_task(
            &user,
            json!({"title": "a", "category_id": category["id"], "tags": ["t"]}),
        )
        .await;
    let b = app
        .create_task(
            &user,
            json!({"title": "b", "category_id": category["id"], "tags": ["t"]}),
        )
        .await;
    let parent = app.create_task(&user, json!({"title": "parent"})).await;
    let child = app
        .create_task(&user, json!({"title": "child", "parent_id": parent["id"]}))
        .await;
    let mut stream = EventStream::open(app, &user).await;
    stream.ready().await;
    let (status, _) = app
        .call(
            &user,
            Method::DELETE,
            &format!("/api/{}/categories/{}", user.id, category["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let mut got = vec![
        change_of(&stream.change().await),
        change_of(&stream.change().await),
        change_of(&stream.change().await),
    ];
    got.sort();
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let mut want = vec![
        ("category".to_owned(), id(&category), "delete".to_owned()),
        ("task".to_owned(), id(&a), "upsert".to_owned()),
        ("task".to_owned(), id(&b), "upsert".to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);
    let (status, _) = app
        .call(
            &user,
            Method::PUT,
            &format!("/api/{}/tags/t", user.id),
            Some(json!({"name": "T2"})),
        )
        .await;
    assert_eq!(status, 200);
    let mut renamed = vec![change_of(&stream.change().await).1, change_of(&stream.change().await).1];
    renamed.sort();
    let mut want = vec![id(&a), id(&b)];
    want.sort();
    assert_eq!(renamed, want);
    let (status, _) = app.call(&user, Method::DELETE, &task_url(&user, &parent), None).await;
    assert_eq!(status, 204);
    let mut gone = vec![change_of(&stream.change().await), change_of(&stream.change().await)];
    gone.sort();
    let mut want = vec![
        ("task".to_owned(), id(&parent), "delete".to_owned()),
        ("task".to_owned(), id(&child), "delete".to_owned()),
    ];
    want.sort();
    assert_eq!(gone, want);
}

async fn streams_take_the_token_from_the_query_and_refuse_strangers(app: &TestApp) {
    let user = app.signup("live-query@example.com").await;
    let other = app.signup("live-stranger@example.com").await;
    let url = format!("/api/{}/events", user.id);
    let res = app
        .request(Method::GET, &format!("{url}?access_token={}", user.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = EventStream::reading(res);
    stream.ready().await;
    app.create_task(&user, json!({"title": "via query token"})).await;
    stream.change().await;
    for (req, want) in [
        (app.request(Method::GET, &url), 401),
        (
            app.request(Method::GET, &format!("{url}?access_token=not-a-token")),
            401,
        ),
        (
            app.request(Method::GET, &format!("{url}?access_token={}", other.token)),
            403,
        ),
        (app.as_user(&other, Method::GET, &url), 403),
    ] {
        let (status, body) = common::status_json(req.send().await.unwrap()).await;
        assert_eq!(status, want, "{body}");
        assert!(body["detail"].is_string(), "{body}");
    }
}

async fn a_burst_of_concurrent_writes_is_sent_in_full(app: &TestApp) {
    let user = app.signup("live-burst@example.com").await;
    let mut stream = EventStream::open(app, &user).await;
    stream.ready().await;
    let creates = (0..20).map(|i| {
        let req = app
            .as_user(&user, Method::POST, &tasks_url(&user))
            .json(&json!({"title": format!("t{i}")}));
        async move { req.send().await.unwrap().status().as_u16() }
    });
    assert!(join_all(creates).await.iter().all(|s| *s == 201));
    let mut ids = std::collections::BTreeSet::new();
    let mut last_cursor_change = -1i64;
    while ids.len() < 20 {
        let data = stream.change().await;
        ids.insert(data["id"].as_str().unwrap().to_owned());
        // Cursors only move forward: events come in change order.
        let change = decode_change(data["cursor"].as_str().unwrap());
        assert!(change >= last_cursor_change, "in change order");
        last_cursor_change = change;
    }
    assert!(
        stream.next(Duration::from_millis(500)).await.is_none(),
        "each object once"
    );
}

/// The change number inside a cursor (its text is `1.<change>.…`, base64url).
fn decode_change(cursor: &str) -> i64 {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).unwrap();
    String::from_utf8(text)
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

async fn a_password_change_ends_the_stream(app: &TestApp) {
    let user = app.signup("live-revoke@example.com").await;
    let mut stream = EventStream::open(app, &user).await;
    stream.ready().await;
    let (status, _) = app
        .call(
            &user,
            Method::POST,
            "/api/auth/change-password",
            Some(json!({"current_password": common::PASSWORD, "new_password": "another password"})),
        )
        .await;
    assert_eq!(status, 200);
    // At once on the instance that made the change, not at the streams' next periodic check.
    assert!(
        stream.ends_within(Duration::from_secs(1)).await,
        "a revoked token's stream ends"
    );
}

/// A client that sends a write and hangs up at once: the write still runs to its end, and the
/// owner's streams hear of it.
async fn a_write_whose_client_went_away_is_still_announced(app: &TestApp) {
    use tokio::io::AsyncWriteExt;
    let user = app.signup("live-hangup@example.com").await;
    let mut stream = EventStream::open(app, &user).await;
    stream.ready().await;
    let address = app.base.trim_start_matches("http://").to_owned();
    for i in 0..5 {
        let body = json!({"title": format!("hung up {i}")}).to_string();
        let request = format!(
            "POST /api/{}/tasks HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            user.id,
            user.token,
            body.len()
        );
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        drop(socket);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, listed) = app.call(&user, Method::GET, &tasks_url(&user), None).await;
    assert_eq!(status, 200);
    let created: std::collections::BTreeSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!created.is_empty(), "the server took the writes");
    let mut announced = std::collections::BTreeSet::new();
    while announced.len() < created.len() {
        announced.insert(stream.change().await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(announced, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_user_limit_answers_429() {
    let app = TestApp::start_with(Backend::Sqlite, &[("SSE_MAX_PER_USER", "2")], axum::Router::new())
        .await
        .unwrap();
    let user = app.signup("live-limit@example.com").await;
    let mut first = EventStream::open(&app, &user).await;
    let _second = EventStream::open(&app, &user).await;
    first.ready().await;
    assert_too_many(try_open(&app, &user).await.1).await;
    // Another user has streams of their own.
    let other = app.signup("live-limit-other@example.com").await;
    EventStream::open(&app, &other).await.ready().await;
    // Closing one frees its place.
    drop(first);
    open_once_free(
        &app,
        &user,
        Duration::from_secs(5),
        "a closed stream gives its place back",
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_expires() {
    let app = TestApp::start_with(Backend::Sqlite, &[("JWT_EXPIRES_IN", "2")], axum::Router::new())
        .await
        .unwrap();
    let user = app.signup("live-expiry@example.com").await;
    let mut stream = EventStream::open(&app, &user).await;
    stream.ready().await;
    let started = Instant::now();
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the stream ends with its token"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "at expiry: {:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_never_hold_up_a_shutdown() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let user = app.signup("live-shutdown@example.com").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = EventStream::open(&app, &user).await;
        s.ready().await;
        streams.push(s);
    }
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stopped in {:?}",
        started.elapsed()
    );
    for mut s in streams {
        assert!(s.ends_within(Duration::from_secs(1)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_and_revocations_cross_instances() {
    let Some(a) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let b = a.start_sibling().await;
    let user = a.signup("live-two@example.com").await;
    let mut on_b = changes_cross_instances(&a, &b, &user).await;
    // B has admitted the token (and cached the account); a password change through A makes B
    // refuse it within 5 s, and ends B's stream.
    let (status, _) = b.call(&user, Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, 200);
    let (status, _) = a
        .call(
            &user,
            Method::POST,
            "/api/auth/change-password",
            Some(json!({"current_password": common::PASSWORD, "new_password": "another password"})),
        )
        .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    loop {
        let (status, _) = b.call(&user, Method::GET, "/api/auth/me", None).await;
        if status == 401 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "B still admits the old token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(on_b.ends_within(Duration::from_secs(5)).await);
    b.stop().await;
    a.stop().await;
}

/// An attempt to open a stream: its status, and the response (which holds a 200 stream open).
async fn try_open(app: &TestApp, user: &TestUser) -> (u16, Response) {
    let res = app
        .as_user(user, Method::GET, &format!("/api/{}/events", user.id))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res)
}

/// Opens a stream as soon as the user has a free place, trying until `within` has passed.
async fn open_once_free(app: &TestApp, user: &TestUser, within: Duration, why: &str) -> EventStream {
    let started = Instant::now();
    loop {
        let (status, res) = try_open(app, user).await;
        if status == 200 {
            return EventStream::reading(res);
        }
        assert!(started.elapsed() < within, "{why}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts the limit's answer: 429, `Retry-After: 5`, the JSON detail.
async fn assert_too_many(res: Response) {
    assert_eq!(res.headers()["retry-after"], "5");
    let (status, body) = common::status_json(res).await;
    assert_eq!((status, body), (429, json!({"detail": "Too many open event streams"})));
}

/// `SSE_MAX_PER_USER` is per user, not per instance: two instances on one PostgreSQL admit two
/// streams of one user between them; one that closes, anywhere, frees its place at once; and
/// an instance that shuts down gives its places back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_per_user_limit_holds_across_instances() {
    let Some(a) = TestApp::start_with(Backend::Postgres, &[("SSE_MAX_PER_USER", "2")], axum::Router::new()).await
    else {
        return;
    };
    let b = a.start_sibling().await;
    let user = a.signup("live-limit-two@example.com").await;
    let mut on_a = EventStream::open(&a, &user).await;
    on_a.ready().await;
    let mut on_b = EventStream::open(&b, &user).await;
    on_b.ready().await;
    for app in [&a, &b] {
        let (status, res) = try_open(app, &user).await;
        assert_eq!(status, 429, "a third stream, on either instance");
        assert_too_many(res).await;
    }
    // Another user is not affected.
    let other = b.signup("live-limit-two-other@example.com").await;
    EventStream::open(&b, &other).await.ready().await;
    // A stream closed on A frees a place for B at once (no lapse to wait for).
    drop(on_a);
    let mut reopened = open_once_free(
        &b,
        &user,
        Duration::from_secs(2),
        "the closed stream's place is still held",
    )
    .await;
    reopened.ready().await;
    assert_eq!(try_open(&a, &user).await.0, 429);
    // B shuts down: its two places are free for A straight away.
    drop((on_b, reopened));
    let mut held = Vec::new();
    let (_, res) = try_open(&b, &user).await;
    held.push(EventStream::reading(res));
    b.stop().await;
    for _ in 0..2 {
        let mut s = EventStream::open(&a, &user).await;
        s.ready().await;
        held.push(s);
    }
    a.stop().await;
}

/// Many streams of one user opened at once on two instances: exactly the limit are admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_streams_on_two_instances_cannot_overrun_the_limit() {
    let Some(a) = TestApp::start_with(Backend::Postgres, &[("SSE_MAX_PER_USER", "3")], axum::Router::new()).await
    else {
        return;
    };
    let b = a.start_sibling().await;
    let user = a.signup("live-limit-race@example.com").await;
    let mut db = a.direct_db().await;
    for round in 0..3 {
        let path = format!("/api/{}/events", user.id);
        let requests = (0..10).map(|i| (if i % 2 == 0 { &a } else { &b }).as_user(&user, Method::GET, &path));
        let attempts = join_all(requests.map(|request| async move {
            let res = request.send().await.unwrap();
            (res.status().as_u16(), res)
        }))
        .await;
        let admitted = attempts.iter().filter(|(status, _)| *status == 200).count();
        let refused = attempts.iter().filter(|(status, _)| *status == 429).count();
        assert_eq!((admitted, refused), (3, 7), "round {round}");
        drop(attempts);
        // Every place is given back before the next round.
        let started = Instant::now();
        loop {
            let held = db
                .number(&format!(
                    "SELECT count(*) FROM event_streams, jsonb_object_keys(leases) WHERE user_id = '{}'",
                    user.id
                ))
                .await;
            if held == 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(3), "{held} places still held");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    drop(db);
    b.stop().await;
    a.stop().await;
}

/// Places of an instance that died (never given back) lapse; those of open streams are
/// renewed and never do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stream_places_of_a_dead_instance_lapse_and_open_ones_are_renewed() {
    let Some(a) = TestApp::start_with(Backend::Postgres, &[("SSE_MAX_PER_USER", "2")], axum::Router::new()).await
    else {
        return;
    };
    let user = a.signup("live-limit-lapse@example.com").await;
    // A process that died holding both places, which lapse in 2 s.
    let mut db = a.direct_db().await;
    db.execute(&format!(
        "INSERT INTO event_streams (user_id, leases) VALUES ('{}', jsonb_build_object(\
           gen_random_uuid()::text, jsonb_build_object('i', 'dead', 'e', extract(epoch FROM now()) + 2), \
           gen_random_uuid()::text, jsonb_build_object('i', 'dead', 'e', extract(epoch FROM now()) + 2)))",
        user.id
    ))
    .await
    .unwrap();
    let (status, res) = try_open(&a, &user).await;
    assert_eq!(status, 429, "the dead instance's places are held until they lapse");
    assert_too_many(res).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut first = EventStream::open(&a, &user).await;
    first.ready().await;
    let mut second = EventStream::open(&a, &user).await;
    second.ready().await;
    // Held past the lease (15 s): renewed, so still the user's two.
    tokio::time::sleep(Duration::from_secs(17)).await;
    assert_eq!(
        try_open(&a, &user).await.0,
        429,
        "the open streams' places were renewed"
    );
    assert_eq!(
        db.number(&format!(
            "SELECT count(*) FROM event_streams, jsonb_each(leases) l WHERE user_id = '{}' \
               AND (l.value->>'e')::float8 > extract(epoch FROM now()) + 5",
            user.id
        ))
        .await,
        2,
        "two live places, renewed within the last 10 s"
    );
    drop((first, second, db));
    a.stop().await;
}

/// A stream held on B hears of each change made through A within a second; returns it.
async fn changes_cross_instances(a: &TestApp, b: &TestApp, user: &TestUser) -> EventStream {
    let mut on_b = EventStream::open(b, user).await;
    on_b.ready().await;
    for i in 0..5 {
        let task = a.create_task(user, json!({"title": format!("through A {i}")})).await;
        let started = Instant::now();
        let data = on_b.change().await;
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(data["id"], task["id"]);
    }
    on_b
}

/// Two servers on one SQLite file: B's streams hear of A's changes through B's poller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_changes_cross_processes_on_one_file() {
    let Some(a) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let b = a.start_sibling().await;
    let user = a.signup("live-two-files@example.com").await;
    let mut on_b = changes_cross_instances(&a, &b, &user).await;
    // Nothing else comes: each change once.
    assert!(on_b.next(Duration::from_millis(900)).await.is_none());
    b.stop().await;
    a.stop().await;
}
