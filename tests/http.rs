//! The HTTP skeleton (SPEC §1, §2, §6): service routes, the framework's own rejections in our
//! error shape, request ids, CORS, body limits, panics.

mod common;

use std::sync::Arc;

use axum::routing::get;
use common::{assert_validation, status_json, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    service_routes,
    readiness_reports_the_database,
    list_queries_use_an_index,
    migrations_round_trip
);

async fn service_routes(app: &TestApp) {
    let (status, body) = status_json(app.request(Method::GET, "/").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "Task Manager API");
    assert_eq!(body["docs"], "/docs");
    assert_eq!(body["health"], "/health");
    assert!(body["version"].as_str().is_some_and(|v| !v.is_empty()));

    let res = app
        .request(Method::GET, "/")
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/app/");

    let (status, body) = status_json(app.request(Method::GET, "/health").send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (200, json!({"status": "healthy", "message": "API is running"}))
    );
}

async fn readiness_reports_the_database(app: &TestApp) {
    let (status, body) = status_json(app.request(Method::GET, "/health/ready").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"status": "ready", "database": "ok"})));
    // With the pool closed, the database is gone as far as the server can tell.
    app.store.close().await;
    let (status, body) = status_json(app.request(Method::GET, "/health/ready").send().await.unwrap()).await;
    assert_eq!(status, 503);
    assert!(body["detail"].is_string());
    let (status, body) = status_json(app.request(Method::GET, "/health").send().await.unwrap()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("healthy")),
        "liveness never touches the database"
    );
    let (status, body) = status_json(
        app.request(Method::POST, "/api/auth/signup")
            .json(&json!({"email": "x@example.com", "password": "password123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 503);
    assert!(body["detail"].is_string());
}

async fn migrations_round_trip(app: &TestApp) {
    let user = app.signup("before@example.com").await;
    app.create_task(&user, json!({"title": "goes away"})).await;
    let applied = app.store.migration_status().await.unwrap();
    let names: Vec<(i64, &str, bool)> = applied
        .iter()
        .map(|m| (m.version, m.name.as_str(), m.applied))
        .collect();
    let mut expected = vec![
        (1, "users", true),
        (2, "tasks and categories", true),
        (3, "sync and idempotency", true),
        (4, "tags subtasks recurrence", true),
    ];
    // PostgreSQL alone counts brute-force limits in the database.
    if app.backend == Backend::Postgres {
        expected.push((5, "shared rate limits", true));
    }
    expected.push((6, "task counts and list indexes", true));
    // SQLite's due-date ranges moved onto its sort index.
    if app.backend == Backend::Sqlite {
        expected.push((7, "due ranges on the sort index", true));
    }
    // PostgreSQL's counter rows locked in key order.
    if app.backend == Backend::Postgres {
        expected.push((8, "counter rows in key order", true));
    }
    // SQLite's search text on the creation order's index.
    if app.backend == Backend::Sqlite {
        expected.push((9, "search text on the creation index", true));
    }
    // PostgreSQL's event stream places, shared by its instances.
    if app.backend == Backend::Postgres {
        expected.push((10, "event stream places", true));
    }
    assert_eq!(names, expected);
    let all = expected.len();

    app.store.migrate_down(1).await.unwrap();
    let states: Vec<bool> = app
        .store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .map(|m| m.applied)
        .collect();
    let mut want = vec![true; all];
    want[all - 1] = false;
    assert_eq!(states, want);
    app.store.migrate_down(9).await.unwrap();
    let states: Vec<bool> = app
        .store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .map(|m| m.applied)
        .collect();
    assert_eq!(states, vec![false; all], "down to zero");
    assert!(
        app.store.account_by_email("before@example.com").await.is_err(),
        "the tables are gone"
    );

    app.store.migrate_up().await.unwrap();
    app.store.migrate_up().await.unwrap();
    let states: Vec<bool> = app
        .store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .map(|m| m.applied)
        .collect();
    assert_eq!(states, vec![true; all]);
    // The schema works again from scratch.
    app.state.accounts.invalidate(&user.id);
    let again = app.signup("before@example.com").await;
    let task = app.create_task(&again, json!({"title": "after"})).await;
    assert_eq!(task["title"], "after");
}

async fn list_queries_use_an_index(app: &TestApp) {
    if app.backend == Backend::Sqlite {
        return sqlite_list_queries_use_an_index(app).await;
    }
    // With sequential scans priced out, a list query that can use an index must do so. This fails
    // if the indexes go or the queries stop matching them.
    use sqlx::{Connection, Executor, Row};
    let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
    conn.execute("SET enable_seqscan = off").await.unwrap();
    for (query, index) in [
        ("SELECT id, (SELECT count(*) FROM tasks WHERE user_id = 'u') FROM tasks WHERE user_id = 'u' ORDER BY created_at DESC, id DESC LIMIT 20", "tasks_user_"),
        ("SELECT id, (SELECT count(*) FROM tasks WHERE user_id = 'u' AND completed = false) FROM tasks WHERE user_id = 'u' AND completed = false ORDER BY created_at DESC, id DESC LIMIT 20", "tasks_user_"),
        ("SELECT id FROM tasks WHERE id = '00000000-0000-0000-0000-000000000000' AND user_id = 'u'", "tasks_"),
        ("SELECT task_id FROM task_tags WHERE user_id = 'u' AND tag_key = 'k'", "task_tags_user_key_idx"),
        ("SELECT id FROM tasks WHERE parent_id = '00000000-0000-0000-0000-000000000000' AND user_id = 'u'", "tasks_"),
        ("SELECT id FROM categories WHERE user_id = 'u' ORDER BY name_key, id", "categories_user_name_key"),
        ("SELECT id FROM users WHERE lower(email) = lower('a@b.co')", "users_email_key"),
    ] {
        let rows = conn.fetch_all(format!("EXPLAIN {query}").as_str()).await.unwrap();
        let plan: String = rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>().join("\n");
        assert!(plan.contains("Index") && plan.contains(index), "{query}\n{plan}");
    }
}

/// SQLite's planner, asked about each sort as the store orders it: every page is read in index
/// order, with no sort of the owner's rows. (The store's own tests ask about its filters.)
async fn sqlite_list_queries_use_an_index(app: &TestApp) {
    use sqlx::{Connection, Row};
    use taskapi::domain::task::Sort;
    let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
    for (sort, index) in [
        ("-created_at", "tasks_user_created_idx"),
        ("created_at", "tasks_user_created_idx"),
        ("updated_at", "tasks_user_updated_idx"),
        ("-updated_at", "tasks_user_updated_idx"),
        ("due_date", "tasks_user_due_asc_idx"),
        ("-due_date", "tasks_user_due_desc_idx"),
        ("priority", "tasks_user_priority_idx"),
        ("-priority", "tasks_user_priority_idx"),
        ("title", "tasks_user_title_idx"),
        ("-title", "tasks_user_title_idx"),
    ] {
        let order = Sort::parse(sort).unwrap().sqlite_order_by();
        let sql = format!("EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE user_id = 'u' ORDER BY {order} LIMIT 20");
        let rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
        let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
        assert!(plan.iter().any(|p| p.contains(index)), "{sort}: {plan:?}");
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{sort}: {plan:?}");
    }
}

async fn start(vars: &[(&str, &str)]) -> TestApp {
    TestApp::start_with(Backend::Sqlite, vars, axum::Router::new())
        .await
        .expect("app")
}

#[tokio::test]
async fn framework_rejections_speak_json() {
    let app = start(&[]).await;
    let user = app.signup("rejections@example.com").await;
    let tasks = format!("/api/{}/tasks", user.id);

    let (status, body) = status_json(app.request(Method::GET, "/no/such/route").send().await.unwrap()).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found"})));

    let res = app.request(Method::DELETE, "/health").send().await.unwrap();
    assert_eq!(res.status(), 405);
    let (_, body) = status_json(res).await;
    assert!(body["detail"].is_string());
    let res = app
        .as_user(&user, Method::PUT, &tasks)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);

    // 415: another content type, or none, with a body.
    let res = app
        .as_user(&user, Method::POST, &tasks)
        .header("content-type", "text/plain")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_eq!(status, 415);
    assert!(body["detail"].is_string());
    let res = app
        .as_user(&user, Method::POST, &tasks)
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // charset parameters are fine.
    let res = app
        .as_user(&user, Method::POST, &tasks)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // 422: bad JSON, with the list shape.
    let res = app
        .as_user(&user, Method::POST, &tasks)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(res).await;
    assert_validation(status, &body, &["body"]);
    assert_eq!(body["detail"][0]["type"], "json_invalid");

    // 413: over 64 KiB, whatever the route.
    let big = json!({"title": "x", "description": "y".repeat(70 * 1024)});
    let (status, body) = status_json(
        app.as_user(&user, Method::POST, &tasks)
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert!(body["detail"].is_string());
    let (status, _) = status_json(
        app.request(Method::POST, "/api/auth/login")
            .json(&json!({"email": "a@b.co", "password": "p".repeat(70_000)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    // Also on routes that take no body: the toggle does not happen, the deletion neither.
    let (_, listed) = status_json(app.as_user(&user, Method::GET, &tasks).send().await.unwrap()).await;
    let task_url = format!("{tasks}/{}", listed[0]["id"].as_str().unwrap());
    let padding = "z".repeat(70 * 1024);
    for (method, url) in [
        (Method::PATCH, format!("{task_url}/complete")),
        (Method::DELETE, task_url.clone()),
        (Method::GET, "/health".to_owned()),
    ] {
        let res = app
            .as_user(&user, method.clone(), &url)
            .body(padding.clone())
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(res).await;
        assert_eq!(status, 413, "{method} {url}");
        assert_eq!(
            body["detail"], "Request body too large (limit 64 KiB)",
            "{method} {url}"
        );
    }
    // Nothing was written by the refused requests.
    let (_, listed) = status_json(app.as_user(&user, Method::GET, &tasks).send().await.unwrap()).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["completed"], false, "not toggled");
    app.stop().await;
}

#[tokio::test]
async fn request_ids() {
    let app = start(&[]).await;
    let res = app
        .request(Method::GET, "/health")
        .header("x-request-id", "client-id_1.2:3")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-id_1.2:3");
    for bad in ["has space", "semi;colon", &"x".repeat(129)] {
        let res = app
            .request(Method::GET, "/health")
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap();
        assert!(id != bad && !id.is_empty());
    }
    // Generated ids differ, and errors carry one too.
    let a = app.request(Method::GET, "/health").send().await.unwrap().headers()["x-request-id"].clone();
    let b = app.request(Method::GET, "/nope").send().await.unwrap().headers()["x-request-id"].clone();
    assert_ne!(a, b);
    app.stop().await;
}

#[tokio::test]
async fn cors_for_allowed_origins_only() {
    let app = start(&[
        ("CORS_ORIGINS", "http://localhost:3000,https://app.example"),
        ("FRONTEND_URL", "https://front.example"),
    ])
    .await;
    for origin in ["http://localhost:3000", "https://app.example", "https://front.example"] {
        let res = app
            .request(Method::GET, "/health")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], origin);
        assert_eq!(res.headers()["access-control-allow-credentials"], "true");
        let exposed = res.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            exposed.contains("x-total-count") && exposed.contains("location"),
            "{exposed}"
        );
    }
    let res = app
        .request(Method::OPTIONS, "/api/u/tasks")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"));

    for origin in [Some("https://evil.example"), None] {
        let mut req = app.request(Method::GET, "/health");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let res = req.send().await.unwrap();
        let cors: Vec<_> = res
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(cors.is_empty(), "{origin:?} got {cors:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_server_lives_on() {
    let extra = axum::Router::<Arc<taskapi::app::AppState>>::new().route(
        "/boom",
        get(|| async {
            if true {
                panic!("secret internal detail");
            }
            "unreachable"
        }),
    );
    let app = TestApp::start_with(Backend::Sqlite, &[], extra).await.unwrap();
    let res = app.request(Method::GET, "/boom").send().await.unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    let (status, body) = status_json(res).await;
    assert_eq!((status, body), (500, json!({"detail": "Internal server error"})));
    let (status, _) = status_json(app.request(Method::GET, "/health").send().await.unwrap()).await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn web_app_is_served_from_the_binary() {
    let app = start(&[]).await;
    let res = app.request(Method::GET, "/app/").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let etag = res.headers()["etag"].clone();
    let html = res.text().await.unwrap();
    assert!(html.contains("<html") || html.contains("<!doctype") || html.contains("<!DOCTYPE"));
    let res = app
        .request(Method::GET, "/app/")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    // the page's ES modules, from the web/js folder, as JavaScript (a module needs that type)
    assert!(html.contains(r#"<script type="module" src="js/main.js">"#));
    for module in ["/app/js/main.js", "/app/js/api.js"] {
        let res = app.request(Method::GET, module).send().await.unwrap();
        assert_eq!(res.status(), 200, "{module}");
        assert!(
            res.headers()["content-type"].to_str().unwrap().contains("javascript"),
            "{module}"
        );
    }
    let (status, body) = status_json(app.request(Method::GET, "/app/missing.js").send().await.unwrap()).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found"})));
    let res = app.request(Method::GET, "/app").send().await.unwrap();
    assert!(res.status().is_redirection());
    app.stop().await;
}

#[tokio::test]
async fn timestamps_read_back_identically() {
    let app = start(&[]).await;
    let user = app.signup("ts@example.com").await;
    let task = app
        .create_task(
            &user,
            json!({"title": "t", "due_date": "2030-06-15T23:59:59.999999-07:00"}),
        )
        .await;
    assert_eq!(task["due_date"], "2030-06-16T06:59:59.999999Z");
    let (_, got) = status_json(
        app.as_user(
            &user,
            Method::GET,
            &format!("/api/{}/tasks/{}", user.id, task["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(got, task);
    let _: Value = got;
    app.stop().await;
}
