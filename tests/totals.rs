//! X-Total-Count (SPEC §4) stays exact after every kind of write, on both backends: the plain
//! lists read it from per-user counters kept by database triggers, so each write path is checked
//! against the rows the list itself returns, also while concurrent writers run.

mod common;

use common::{join_all, task_url, tasks_url, DirectDb, TestApp, TestUser, PASSWORD};
use reqwest::{Method, Response};
use serde_json::{json, Value};

backend_tests!(
    totals_stay_exact_after_every_kind_of_write,
    totals_match_their_page_under_concurrent_writers,
    direct_writers_moving_tasks_both_ways_never_deadlock
);

/// The filters the counters serve, and one they do not (priority), which counts rows.
const FILTERS: [&str; 6] = [
    "",
    "completed=true",
    "completed=false",
    "parent_id=null",
    "completed=false&parent_id=null",
    "priority=high",
];

/// A list response's X-Total-Count.
fn total_count(res: &Response) -> usize {
    res.headers()["x-total-count"]
        .to_str()
        .expect("header")
        .parse()
        .expect("a number")
}

/// A list's X-Total-Count and its rows.
async fn list(app: &TestApp, user: &TestUser, query: &str) -> (usize, Vec<Value>) {
    let res = app
        .as_user(user, Method::GET, &format!("{}?{query}", tasks_url(user)))
        .send()
        .await
        .expect("list");
    assert_eq!(res.status(), 200, "list {query}");
    let total = total_count(&res);
    let rows: Vec<Value> = res.json().await.expect("list body");
    (total, rows)
}

/// For every filter: the total of a one-row page, and of a page past the end, is the number of
/// rows the whole list returns.
async fn assert_totals(app: &TestApp, user: &TestUser, after: &str) {
    for filter in FILTERS {
        let (_, rows) = list(app, user, &format!("{filter}&limit=1000")).await;
        let real = rows.len();
        let (total, _) = list(app, user, &format!("{filter}&limit=1")).await;
        assert_eq!(total, real, "after {after}, filter {filter:?}");
        let (total, past) = list(app, user, &format!("{filter}&limit=1&offset=5000")).await;
        assert_eq!(
            (total, past.len()),
            (real, 0),
            "after {after}, past the end, filter {filter:?}"
        );
    }
}

async fn ok(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, got) = app.call(user, method.clone(), path, body).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {got}");
    got
}

/// A PATCH of `task` with `body` that must succeed; its answer.
async fn patch(app: &TestApp, user: &TestUser, task: &Value, body: Value) -> Value {
    ok(app, user, Method::PATCH, &task_url(user, task), Some(body)).await
}

/// A toggle of `task` (`PATCH …/complete`) that must succeed; its answer.
async fn toggle(app: &TestApp, user: &TestUser, task: &Value) -> Value {
    let path = format!("{}/complete", task_url(user, task));
    ok(app, user, Method::PATCH, &path, None).await
}

async fn counter_rows(app: &TestApp, user_id: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM task_counts WHERE user_id = '{user_id}'");
    app.direct_db().await.number(&sql).await
}

async fn totals_stay_exact_after_every_kind_of_write(app: &TestApp) {
    let user = app.signup("totals@example.com").await;
    let other = app.signup("totals-other@example.com").await;
    app.create_task(&other, json!({"title": "not mine"})).await;
    assert_totals(app, &user, "nothing").await;

    let mut tasks = Vec::new();
    for (i, priority) in ["low", "medium", "high", "high", "medium"].iter().enumerate() {
        let body = json!({"title": format!("task {i}"), "priority": priority, "completed": i == 0});
        tasks.push(app.create_task(&user, body).await);
    }
    assert_totals(app, &user, "creates").await;

    toggle(app, &user, &tasks[1]).await;
    toggle(app, &user, &tasks[0]).await;
    assert_totals(app, &user, "toggles").await;
    patch(app, &user, &tasks[2], json!({"completed": true})).await;
    ok(
        app,
        &user,
        Method::PUT,
        &task_url(&user, &tasks[3]),
        Some(json!({"title": "put", "completed": true})),
    )
    .await;
    patch(app, &user, &tasks[3], json!({"title": "renamed"})).await;
    assert_totals(app, &user, "PATCH and PUT of completed").await;

    // Subtasks: created, completed, moved to the top level and back, then taken along by their
    // parent's deletion.
    let parent = &tasks[4];
    let mut subs = Vec::new();
    for i in 0..3 {
        let body = json!({"title": format!("sub {i}"), "parent_id": parent["id"], "priority": "high"});
        subs.push(app.create_task(&user, body).await);
    }
    patch(app, &user, &subs[0], json!({"completed": true})).await;
    patch(app, &user, &subs[1], json!({"parent_id": null})).await;
    assert_totals(app, &user, "subtasks").await;
    patch(app, &user, &subs[1], json!({"parent_id": parent["id"]})).await;
    assert_totals(app, &user, "a task made a subtask").await;
    ok(app, &user, Method::DELETE, &task_url(&user, parent), None).await;
    assert_totals(app, &user, "a parent's deletion").await;

    // A category's deletion leaves its tasks, uncategorised.
    let category = app.create_category(&user, "Home").await;
    for i in 0..2 {
        let body = json!({"title": format!("home {i}"), "category_id": category["id"], "completed": i == 1});
        app.create_task(&user, body).await;
    }
    let path = format!("/api/{}/categories/{}", user.id, category["id"].as_str().expect("id"));
    ok(app, &user, Method::DELETE, &path, None).await;
    assert_totals(app, &user, "a category's deletion").await;

    // Tags: created with, renamed, deleted.
    for i in 0..2 {
        app.create_task(
            &user,
            json!({"title": format!("tagged {i}"), "tags": ["work"], "completed": i == 0}),
        )
        .await;
    }
    ok(
        app,
        &user,
        Method::PUT,
        &format!("/api/{}/tags/work", user.id),
        Some(json!({"name": "job"})),
    )
    .await;
    ok(app, &user, Method::DELETE, &format!("/api/{}/tags/job", user.id), None).await;
    assert_totals(app, &user, "tag operations").await;

    // Recurring: completing moves the due date (stays open) until the last occurrence completes it.
    let rule = |r: &str| json!({"rule": r, "basis": "due", "timezone": "UTC"});
    let due = "2030-01-01T09:00:00Z";
    let repeating = app
        .create_task(
            &user,
            json!({"title": "daily", "due_date": due, "recurrence": rule("FREQ=DAILY")}),
        )
        .await;
    let last = app
        .create_task(
            &user,
            json!({"title": "once more", "due_date": due, "recurrence": rule("FREQ=DAILY;COUNT=1")}),
        )
        .await;
    let moved = patch(app, &user, &repeating, json!({"completed": true})).await;
    assert_eq!(moved["completed"], false);
    let done = toggle(app, &user, &last).await;
    assert_eq!(done["completed"], true);
    assert_totals(app, &user, "recurring completions").await;

    // Account deletion leaves no counters behind, and takes nobody else's.
    assert!(counter_rows(app, &user.id).await > 0);
    let res = app
        .request(Method::DELETE, "/api/auth/me")
        .bearer_auth(&user.token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .expect("delete account");
    assert_eq!(res.status(), 204);
    assert_eq!(counter_rows(app, &user.id).await, 0, "counters of a deleted account");
    assert_totals(app, &other, "another account's deletion").await;
}

async fn totals_match_their_page_under_concurrent_writers(app: &TestApp) {
    let user = app.signup("busy@example.com").await;
    let mut seeded = Vec::new();
    for i in 0..20 {
        seeded.push(app.create_task(&user, json!({"title": format!("seed {i}")})).await);
    }
    let parent = seeded[0].clone();
    // 50 mixed writes at once (creates, subtasks, toggles, completions, deletions), with readers
    // beside them: each page's total must be its own snapshot's, i.e. the rows it returns.
    let writes: Vec<_> = (0..50)
        .map(|i| {
            let (app_base, client, user) = (app.base.clone(), app.client.clone(), user.clone());
            let task = seeded[1 + i % 19].clone();
            let parent = parent.clone();
            async move {
                let tasks = format!("{app_base}/api/{}/tasks", user.id);
                let one = format!("{tasks}/{}", task["id"].as_str().expect("id"));
                let req = match i % 5 {
                    0 => client
                        .post(&tasks)
                        .json(&json!({"title": format!("new {i}"), "completed": i % 2 == 0})),
                    1 => client
                        .post(&tasks)
                        .json(&json!({"title": format!("sub {i}"), "parent_id": parent["id"]})),
                    2 => client.patch(format!("{one}/complete")),
                    3 => client.patch(&one).json(&json!({"completed": true})),
                    _ if i % 10 == 4 => client.delete(&one),
                    _ => client.patch(&one).json(&json!({"completed": false})),
                };
                let status = req.bearer_auth(&user.token).send().await.expect("write").status();
                // A task deleted by an earlier write is a 404.
                assert!(status.is_success() || status == 404, "write {i}: {status}");
            }
        })
        .collect();
    let reads: Vec<_> = (0..30)
        .map(|i| {
            let (app_base, client, user) = (app.base.clone(), app.client.clone(), user.clone());
            async move {
                let filter = ["", "completed=true", "completed=false"][i % 3];
                let res = client
                    .get(format!("{app_base}/api/{}/tasks?{filter}&limit=1000", user.id))
                    .bearer_auth(&user.token)
                    .send()
                    .await
                    .expect("list");
                let total = total_count(&res);
                let rows: Vec<Value> = res.json().await.expect("rows");
                assert_eq!(total, rows.len(), "a total beside its page, filter {filter:?}");
            }
        })
        .collect();
    let writes = tokio::spawn(async move { join_all(writes).await });
    join_all(reads).await;
    writes.await.expect("writes");
    assert_totals(app, &user, "50 concurrent writes").await;
}

/// Writers around the application (direct SQL, an import) lock no users row first. Sixteen of
/// them flip their own two tasks, one open and one done, so that at every moment some move tasks
/// from open to done and others from done to open: the count trigger takes both counter rows
/// of each move, and in one order for every writer, so no statement dies in a deadlock (the
/// old-then-new order deadlocked under this load) and the totals stay exact.
async fn direct_writers_moving_tasks_both_ways_never_deadlock(app: &TestApp) {
    let user = app.signup("direct@example.com").await;
    let mut pairs = Vec::new();
    for w in 0..16 {
        let open = app.create_task(&user, json!({"title": format!("open {w}")})).await;
        let done = app
            .create_task(&user, json!({"title": format!("done {w}"), "completed": true}))
            .await;
        pairs.push([open, done].map(|t| t["id"].as_str().expect("id").to_owned()));
    }
    let writers: Vec<_> = pairs
        .into_iter()
        .map(|ids| {
            let (backend, url) = (app.backend, app.database_url.clone());
            async move {
                let mut db = DirectDb::connect(backend, &url).await;
                for id in ids.iter().cycle().take(120) {
                    let sql = format!("UPDATE tasks SET completed = NOT completed WHERE id = '{id}'");
                    db.execute(&sql).await.expect("a flip");
                }
            }
        })
        .collect();
    join_all(writers).await;
    // Each task flipped 60 times: back where it started, 16 open and 16 done.
    let (total, rows) = list(app, &user, "completed=true&limit=1").await;
    assert_eq!((total, rows.len()), (16, 1));
    assert_totals(app, &user, "direct writers").await;
}
