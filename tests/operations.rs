//! SPEC §12 against the real server: `/metrics`, compression, brute-force limits shared by two
//! instances on one PostgreSQL, and the fail-fast layer's view of a healthy database. The outage
//! itself (a PostgreSQL stopped under load) is in tests/process/outage.rs, on a cluster of its own.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};

use axum::routing::get;
use common::{join_all, status_json, Backend, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const METRICS_TOKEN: &str = "metrics-test-token-0123456789";
/// Requests by method, route and status: the duration histogram's count.
const REQUESTS: &str = "taskapi_http_request_duration_seconds_count";

async fn start(backend: Backend, vars: &[(&str, &str)]) -> Option<TestApp> {
    TestApp::start_with(backend, vars, axum::Router::new()).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request")
}

/// One sample line of the Prometheus text format: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses the exposition (label values here never contain `,` or `"`).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample line: {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("label {pair} in {line}"));
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().unwrap_or_else(|_| panic!("value in {line}")),
            }
        })
        .collect()
}

fn find<'a>(all: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    all.iter().find(|s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

async fn scrape(app: &TestApp) -> String {
    let res = app
        .request(Method::GET, "/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    res.text().await.unwrap()
}

async fn metrics_after_traffic(backend: Backend) {
    let Some(app) = start(backend, &[("METRICS_TOKEN", METRICS_TOKEN)]).await else {
        return;
    };
    let user = app.signup("metered@example.com").await;
    let task = app.create_task(&user, json!({"title": "counted"})).await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    let got = app
        .as_user(&user, Method::GET, &format!("/api/{}/tasks/{task_id}", user.id))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let missing = app
        .as_user(
            &user,
            Method::GET,
            &format!("/api/{}/tasks/{}", user.id, uuid::Uuid::new_v4()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let unknown = app
        .request(Method::GET, &format!("/no/such/{task_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let wrong_method = app.request(Method::PUT, "/health").send().await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    let no_token = app
        .request(Method::GET, &format!("/api/{}/tasks", user.id))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    for _ in 0..11 {
        login(&app, &user.email, "not the password").await;
    }
    let wrong = app
        .request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"current_password": "not the password", "new_password": "a new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);

    // Without the token, or with another: 401 in the contract's shape.
    for auth in [None, Some("Bearer wrong-token"), Some(METRICS_TOKEN)] {
        let mut req = app.request(Method::GET, "/metrics");
        if let Some(value) = auth {
            req = req.header("authorization", value);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let (status, body) = status_json(res).await;
        assert_eq!(status, 401, "{auth:?}");
        assert!(body["detail"].is_string(), "{body}");
    }

    // One live event stream, held open while scraping.
    let stream = app
        .as_user(&user, Method::GET, &format!("/api/{}/events", user.id))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let text = scrape(&app).await;
    drop(stream);
    let all = samples(&text);
    let tasks_item = "/api/{user_id}/tasks/{id}";
    for (name, labels) in [
        (
            REQUESTS,
            vec![("method", "POST"), ("route", "/api/{user_id}/tasks"), ("status", "201")],
        ),
        (
            REQUESTS,
            vec![("method", "GET"), ("route", tasks_item), ("status", "200")],
        ),
        (
            REQUESTS,
            vec![("method", "GET"), ("route", tasks_item), ("status", "404")],
        ),
        (
            REQUESTS,
            vec![("method", "GET"), ("route", "unmatched"), ("status", "404")],
        ),
        (
            REQUESTS,
            vec![("method", "PUT"), ("route", "/health"), ("status", "405")],
        ),
        (
            REQUESTS,
            vec![("method", "POST"), ("route", "/api/auth/login"), ("status", "429")],
        ),
        (
            "taskapi_http_request_duration_seconds_bucket",
            vec![
                ("method", "GET"),
                ("route", tasks_item),
                ("status", "200"),
                ("le", "+Inf"),
            ],
        ),
        (
            "taskapi_http_request_duration_seconds_bucket",
            vec![
                ("method", "GET"),
                ("route", tasks_item),
                ("status", "200"),
                ("le", "0.25"),
            ],
        ),
        ("taskapi_http_request_duration_seconds_sum", vec![("route", tasks_item)]),
        ("taskapi_db_pool_connections", vec![("state", "in_use")]),
        ("taskapi_db_pool_connections", vec![("state", "idle")]),
        ("taskapi_database_errors_total", vec![("kind", "unavailable")]),
        ("taskapi_auth_failures_total", vec![("reason", "missing")]),
        ("taskapi_auth_failures_total", vec![("reason", "bad_credentials")]),
        ("taskapi_rate_limit_refusals_total", vec![("limit", "login")]),
        ("taskapi_event_streams_open", vec![]),
        ("process_resident_memory_bytes", vec![]),
        ("process_cpu_seconds_total", vec![]),
    ] {
        assert!(find(&all, name, &labels).is_some(), "no {name} {labels:?} in:\n{text}");
    }
    for (name, labels) in [
        (
            REQUESTS,
            vec![("method", "GET"), ("route", tasks_item), ("status", "200")],
        ),
        ("taskapi_auth_failures_total", vec![("reason", "bad_credentials")]),
        ("taskapi_auth_failures_total", vec![("reason", "wrong_password")]),
        ("taskapi_rate_limit_refusals_total", vec![("limit", "login")]),
        ("process_resident_memory_bytes", vec![]),
        ("taskapi_event_streams_open", vec![]),
    ] {
        let sample = find(&all, name, &labels).unwrap();
        assert!(sample.value >= 1.0, "{name} {labels:?} = {}", sample.value);
    }

    // No id ever becomes a label: not the user's, not the task's, no UUID at all.
    for sample in &all {
        for (key, value) in &sample.labels {
            assert!(
                !value.contains(&user.id) && !value.contains(&task_id),
                "an id in {}{{{key}={value}}}",
                sample.name
            );
            assert!(
                value.split('/').all(|part| uuid::Uuid::try_parse(part).is_err()),
                "a UUID in {}{{{key}={value}}}",
                sample.name
            );
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_metrics_after_traffic() {
    metrics_after_traffic(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_metrics_after_traffic() {
    metrics_after_traffic(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_not_found_without_a_token_configured() {
    let app = start(Backend::Sqlite, &[]).await.expect("app");
    for auth in [None, Some("Bearer anything")] {
        let mut req = app.request(Method::GET, "/metrics");
        if let Some(value) = auth {
            req = req.header("authorization", value);
        }
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!((status, body), (404, json!({"detail": "Not found"})));
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------

async fn large_list_is_compressed(backend: Backend) {
    let sse = axum::Router::new().route(
        "/test/events",
        get(|| async { ([("content-type", "text/event-stream")], "data: tick\n\n".repeat(400)) }),
    );
    let Some(app) = TestApp::start_with(backend, &[], sse).await else {
        return;
    };
    let user = app.signup("bulk@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    // Sixteen at a time.
    let mut statuses = Vec::new();
    for chunk in (0..1000).collect::<Vec<u32>>().chunks(16) {
        let batch = chunk.iter().map(|i| {
            let req = app
                .as_user(&user, Method::POST, &path)
                .json(&json!({"title": format!("Task number {i}"), "description": "the same words again and again"}));
            async move { req.send().await.expect("create").status().as_u16() }
        });
        statuses.extend(join_all(batch).await);
    }
    assert!(statuses.iter().all(|s| *s == 201), "every create succeeds");

    let list = format!("{path}?limit=1000");
    let plain = app.as_user(&user, Method::GET, &list).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(
        plain.headers().get("content-encoding").is_none(),
        "not asked for: not compressed"
    );
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(plain.as_array().map(Vec::len), Some(1000));

    let res = app
        .as_user(&user, Method::GET, &list)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let vary: Vec<String> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(vary.iter().any(|v| v.contains("accept-encoding")), "Vary: {vary:?}");
    assert_eq!(res.headers()["x-total-count"], "1000", "headers survive compression");
    let compressed = res.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    assert!(
        compressed.len() * 5 < decoded.len(),
        "{} → {}",
        decoded.len(),
        compressed.len()
    );
    let decoded: Value = serde_json::from_slice(&decoded).expect("JSON inside");
    assert_eq!(decoded, plain, "the same JSON");

    for encoding in ["br", "zstd"] {
        let res = app
            .as_user(&user, Method::GET, &list)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-encoding"], encoding);
    }
    // Small answers and event streams stay as they are.
    let small = app
        .request(Method::GET, "/health")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(small.headers().get("content-encoding").is_none(), "under 1 KiB");
    let events = app
        .request(Method::GET, "/test/events")
        .header("accept-encoding", "gzip, br, zstd")
        .send()
        .await
        .unwrap();
    assert!(
        events.headers().get("content-encoding").is_none(),
        "an event stream is never compressed"
    );
    assert_eq!(events.text().await.unwrap().len(), "data: tick\n\n".len() * 400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_large_list_is_compressed() {
    large_list_is_compressed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_large_list_is_compressed() {
    large_list_is_compressed(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Brute-force limits shared by instances (PostgreSQL) and their strictness under concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failed_logins_are_counted_across_instances() {
    let Some(a) = start(Backend::Postgres, &[]).await else {
        return;
    };
    let b = a.start_sibling().await;
    let user = a.signup("shared-limit@example.com").await;
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, _) = status_json(login(app, &user.email, "wrong password").await).await;
        assert_eq!(
            status,
            401,
            "failure {} on instance {}",
            i + 1,
            if i % 2 == 0 { "a" } else { "b" }
        );
    }
    for (name, app) in [("a", &a), ("b", &b)] {
        let res = login(app, &user.email, "wrong again").await;
        assert_eq!(res.status(), 429, "the 11th failure on instance {name}");
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        let (_, body) = status_json(res).await;
        assert!(body["detail"].is_string());
        // The right password too: the limit is no oracle, on either instance.
        assert_eq!(login(app, &user.email, PASSWORD).await.status(), 429, "instance {name}");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_signups_are_counted_across_instances() {
    let Some(a) = start(Backend::Postgres, &[("RATE_LIMIT_SIGNUP_PER_MINUTE", "3")]).await else {
        return;
    };
    let b = a.start_sibling().await;
    a.signup("one@example.com").await;
    b.signup("two@example.com").await;
    a.signup("three@example.com").await;
    for app in [&a, &b] {
        let res = app
            .request(Method::POST, "/api/auth/signup")
            .json(&json!({"email": "four@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key("retry-after"));
    }
    b.stop().await;
    a.stop().await;
}

/// Thirty wrong passwords at once, spread over every instance: exactly ten are tried.
async fn concurrent_failures_cannot_overrun_the_limit(apps: &[&TestApp]) {
    let user = apps[0].signup("burst@example.com").await;
    let attempts = (0..30).map(|i| {
        let req = apps[i % apps.len()]
            .request(Method::POST, "/api/auth/login")
            .json(&json!({"email": user.email, "password": format!("guess {i}")}));
        async move { req.send().await.expect("login").status().as_u16() }
    });
    let statuses = join_all(attempts).await;
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((tried, refused), (10, 20), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_failed_logins_cannot_overrun_the_limit() {
    let app = start(Backend::Sqlite, &[]).await.expect("app");
    concurrent_failures_cannot_overrun_the_limit(&[&app]).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_failed_logins_on_two_instances_cannot_overrun_the_limit() {
    let Some(a) = start(Backend::Postgres, &[]).await else {
        return;
    };
    let b = a.start_sibling().await;
    concurrent_failures_cannot_overrun_the_limit(&[&a, &b]).await;
    b.stop().await;
    a.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Fail fast: a busy but healthy database never opens the breaker
// ---------------------------------------------------------------------------------------------

/// A pool of one connection and forty concurrent requests: some wait for the pool (503 after the
/// acquire timeout is allowed), but the breaker stays closed and readiness stays 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_busy_pool_is_not_an_outage() {
    let Some(app) = start(
        Backend::Postgres,
        &[("DB_MAX_CONNECTIONS", "1"), ("DB_ACQUIRE_TIMEOUT", "200ms")],
    )
    .await
    else {
        return;
    };
    let user = app.signup("busy@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    let requests = (0..40).map(|i| {
        let req = app
            .as_user(&user, Method::POST, &path)
            .json(&json!({"title": format!("t{i}")}));
        async move { req.send().await.expect("request").status().as_u16() }
    });
    let statuses = join_all(requests).await;
    assert!(statuses.iter().all(|s| *s == 201 || *s == 503), "{statuses:?}");
    // Give the watcher time to try a connection of its own.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let breaker = app.store.breaker().expect("PostgreSQL has a breaker");
    assert!(!breaker.is_open(), "pool waits under load are not an outage");
    let started = Instant::now();
    let (status, body) = status_json(app.request(Method::GET, "/health/ready").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"status": "ready", "database": "ok"})));
    assert!(started.elapsed() < Duration::from_secs(1));
    let (status, _) = status_json(app.as_user(&user, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_has_no_breaker() {
    let app = start(Backend::Sqlite, &[]).await.expect("app");
    assert!(
        app.store.breaker().is_none(),
        "an embedded file has no outage to fail fast on"
    );
    app.stop().await;
}

/// A write lock held elsewhere on the embedded file is contention, not an outage: reads and
/// readiness go on, a write waits the busy timeout and then answers 503, and works once the lock
/// is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_locked_file_is_not_an_outage() {
    use sqlx::{Connection, Executor};
    let app = start(Backend::Sqlite, &[]).await.expect("app");
    let user = app.signup("locked@example.com").await;
    let path = format!("/api/{}/tasks", user.id);
    app.create_task(&user, json!({"title": "before the lock"})).await;

    let mut other = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let (status, list) = status_json(app.as_user(&user, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200, "reads go on beside a writer: {list}");
    let started = Instant::now();
    let (status, _) = status_json(app.request(Method::GET, "/health/ready").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    let (status, body) = status_json(
        app.as_user(&user, Method::POST, &path)
            .json(&json!({"title": "while locked"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"].is_string());

    other.execute("ROLLBACK").await.unwrap();
    let _ = other.close().await;
    app.create_task(&user, json!({"title": "after the lock"})).await;
    app.stop().await;
}
