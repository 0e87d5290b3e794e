//! Delta sync (SPEC §9) on both backends, and its promise under concurrent writers on two
//! instances sharing one PostgreSQL database.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{assert_detail, assert_validation, status_json, Backend, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    sync_reports_changes_and_deletions,
    sync_pages_follow_the_cursor,
    sync_input_is_validated,
    a_synced_copy_equals_the_server,
);

/// A client's copy, kept by applying sync answers.
#[derive(Default)]
struct Copy {
    cursor: Option<String>,
    tasks: HashMap<String, Value>,
    categories: HashMap<String, Value>,
}

impl Copy {
    fn apply(&mut self, answer: &Value) {
        for t in answer["tasks"].as_array().unwrap() {
            self.tasks.insert(t["id"].as_str().unwrap().to_owned(), t.clone());
        }
        for c in answer["categories"].as_array().unwrap() {
            self.categories.insert(c["id"].as_str().unwrap().to_owned(), c.clone());
        }
        for id in answer["deleted"]["tasks"].as_array().unwrap() {
            self.tasks.remove(id.as_str().unwrap());
        }
        for id in answer["deleted"]["categories"].as_array().unwrap() {
            self.categories.remove(id.as_str().unwrap());
        }
        self.cursor = Some(answer["cursor"].as_str().unwrap().to_owned());
    }

    /// Syncs until `more` is false, against the server at `base`; returns how many requests it
    /// took.
    async fn catch_up(&mut self, client: &reqwest::Client, base: &str, user: &TestUser) -> usize {
        let mut requests = 0;
        loop {
            requests += 1;
            let mut url = format!("{base}/api/{}/sync?limit=7", user.id);
            if let Some(c) = &self.cursor {
                url.push_str(&format!("&since={c}"));
            }
            let res = client.get(&url).bearer_auth(&user.token).send().await.unwrap();
            let (status, body) = status_json(res).await;
            assert_eq!(status, 200, "{body}");
            self.apply(&body);
            if body["more"] == false {
                return requests;
            }
        }
    }
}

async fn sync(app: &TestApp, user: &TestUser, query: &str) -> (u16, Value) {
    status_json(
        app.as_user(user, Method::GET, &format!("/api/{}/sync{query}", user.id))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn server_state(app: &TestApp, user: &TestUser) -> (HashMap<String, Value>, HashMap<String, Value>) {
    let by_id = |list: Vec<Value>| {
        list.into_iter()
            .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
            .collect::<HashMap<_, _>>()
    };
    let tasks: Vec<Value> = app
        .as_user(user, Method::GET, &format!("/api/{}/tasks?limit=1000", user.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let categories: Vec<Value> = app
        .as_user(user, Method::GET, &format!("/api/{}/categories", user.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (by_id(tasks), by_id(categories))
}

fn ids(list: &Value) -> Vec<&str> {
    let mut v: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap_or_else(|| x["id"].as_str().unwrap()))
        .collect();
    v.sort_unstable();
    v
}

async fn sync_reports_changes_and_deletions(app: &TestApp) {
    let user = app.signup("sync@example.com").await;
    let category = app.create_category(&user, "Work").await;
    let kept = app
        .create_task(&user, json!({"title": "kept", "category_id": category["id"]}))
        .await;
    let doomed = app.create_task(&user, json!({"title": "doomed"})).await;

    let (status, full) = sync(app, &user, "").await;
    assert_eq!(status, 200);
    assert_eq!(full["more"], false);
    assert_eq!(full["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(full["categories"], json!([category]));
    assert_eq!(full["deleted"], json!({"tasks": [], "categories": []}));
    let cursor = full["cursor"].as_str().unwrap().to_owned();

    // Nothing since: nothing, and the cursor keeps working.
    let (status, quiet) = sync(app, &user, &format!("?since={cursor}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&quiet["tasks"], &quiet["categories"], &quiet["more"]),
        (&json!([]), &json!([]), &json!(false))
    );
    assert_eq!(quiet["deleted"], json!({"tasks": [], "categories": []}));

    // An update, a deletion, an object created and deleted in between, a category deletion.
    let tasks = format!("/api/{}/tasks", user.id);
    let res = app
        .as_user(
            &user,
            Method::PATCH,
            &format!("{tasks}/{}", kept["id"].as_str().unwrap()),
        )
        .json(&json!({"title": "kept, renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .as_user(
            &user,
            Method::DELETE,
            &format!("{tasks}/{}", doomed["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let ephemeral = app.create_task(&user, json!({"title": "ephemeral"})).await;
    let res = app
        .as_user(
            &user,
            Method::DELETE,
            &format!("{tasks}/{}", ephemeral["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .as_user(
            &user,
            Method::DELETE,
            &format!("/api/{}/categories/{}", user.id, category["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let (status, delta) = sync(app, &user, &format!("?since={cursor}")).await;
    assert_eq!(status, 200);
    let current: Value = app
        .as_user(&user, Method::GET, &format!("{tasks}/{}", kept["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["category_id"], Value::Null);
    assert_eq!(delta["tasks"], json!([current]), "the changed task once, as it is now");
    assert_eq!(delta["categories"], json!([]));
    let mut gone = vec![doomed["id"].as_str().unwrap(), ephemeral["id"].as_str().unwrap()];
    gone.sort_unstable();
    assert_eq!(ids(&delta["deleted"]["tasks"]), gone);
    assert_eq!(delta["deleted"]["categories"], json!([category["id"]]));
    assert_ne!(delta["cursor"], json!(cursor));
}

async fn sync_pages_follow_the_cursor(app: &TestApp) {
    let user = app.signup("pages@example.com").await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            app.create_task(&user, json!({"title": format!("t{i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    let mut sizes = Vec::new();
    loop {
        let (status, page) = sync(app, &user, &query).await;
        assert_eq!(status, 200, "{page}");
        let tasks = page["tasks"].as_array().unwrap();
        sizes.push((tasks.len(), page["more"].as_bool().unwrap()));
        seen.extend(tasks.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        if page["more"] == false {
            break;
        }
        query = format!("?limit=3&since={}", page["cursor"].as_str().unwrap());
    }
    assert_eq!(sizes, [(3, true), (3, true), (1, false)]);
    assert_eq!(seen, created, "in change order, each once");
    // The default limit takes them all at once.
    let (_, all) = sync(app, &user, "").await;
    assert_eq!(
        (all["tasks"].as_array().unwrap().len(), &all["more"]),
        (7, &json!(false))
    );
}

async fn sync_input_is_validated(app: &TestApp) {
    let alice = app.signup("alice-sync@example.com").await;
    let bob = app.signup("bob-sync@example.com").await;
    let (_, bobs) = sync(app, &bob, "").await;
    let bobs_cursor = bobs["cursor"].as_str().unwrap();
    for query in [
        "?since=garbage".to_owned(),
        format!("?since={bobs_cursor}"),
        "?since=".to_owned(),
    ] {
        let (status, body) = sync(app, &alice, &query).await;
        assert_validation(status, &body, &["query", "since"]);
    }
    for query in ["?limit=0", "?limit=1001", "?limit=abc"] {
        let (status, body) = sync(app, &alice, query).await;
        assert_validation(status, &body, &["query", "limit"]);
    }
    let (status, body) = status_json(
        app.request(Method::GET, &format!("/api/{}/sync", alice.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = status_json(
        app.as_user(&bob, Method::GET, &format!("/api/{}/sync", alice.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(
        status,
        &body,
        403,
        "Access denied: You can only access your own resources",
    );
}

/// Mixed writes between syncs; the copy ends equal to the server, field for field.
async fn a_synced_copy_equals_the_server(app: &TestApp) {
    let user = app.signup("copy@example.com").await;
    let mut copy = Copy::default();
    let mut rng = Rng(7);
    let mut live: Vec<String> = Vec::new();
    let mut cats: Vec<String> = Vec::new();
    for round in 0..12 {
        for _ in 0..6 {
            write_once_at(&app.client, &app.base, &user, &mut rng, &mut live, &mut cats).await;
        }
        if round % 2 == 0 {
            copy.catch_up(&app.client, &app.base, &user).await;
        }
    }
    copy.catch_up(&app.client, &app.base, &user).await;
    let (server_tasks, server_categories) = server_state(app, &user).await;
    assert_eq!(copy.tasks, server_tasks);
    assert_eq!(copy.categories, server_categories);
}

/// xorshift64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One random write by a client that knows `live` tasks and `cats` categories (its own).
async fn write_once_at(
    client: &reqwest::Client,
    base: &str,
    user: &TestUser,
    rng: &mut Rng,
    live: &mut Vec<String>,
    cats: &mut Vec<String>,
) {
    let tasks = format!("{base}/api/{}/tasks", user.id);
    let categories = format!("{base}/api/{}/categories", user.id);
    let op = if live.is_empty() { 0 } else { rng.below(7) };
    let req = |m: Method, url: String| client.request(m, url).bearer_auth(&user.token);
    match op {
        0 | 1 => {
            let category = if cats.is_empty() || rng.below(2) == 0 {
                Value::Null
            } else {
                json!(cats[rng.below(cats.len())])
            };
            let res = req(Method::POST, tasks)
                .json(&json!({"title": format!("t{}", rng.below(1000)), "category_id": category}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            live.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        2 => {
            let id = &live[rng.below(live.len())];
            let priority = ["low", "medium", "high"][rng.below(3)];
            let res = req(Method::PATCH, format!("{tasks}/{id}"))
                .json(&json!({"title": format!("p{}", rng.below(1000)), "priority": priority}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        3 => {
            let id = &live[rng.below(live.len())];
            let res = req(Method::PATCH, format!("{tasks}/{id}/complete"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        4 => {
            let id = live.swap_remove(rng.below(live.len()));
            let res = req(Method::DELETE, format!("{tasks}/{id}")).send().await.unwrap();
            assert_eq!(res.status(), 204);
        }
        5 => {
            let res = req(Method::POST, categories)
                .json(&json!({"name": format!("c{}", uuid::Uuid::new_v4().simple())}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            cats.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        _ if !cats.is_empty() => {
            let id = cats.swap_remove(rng.below(cats.len()));
            let res = req(Method::DELETE, format!("{categories}/{id}")).send().await.unwrap();
            assert_eq!(res.status(), 204);
        }
        _ => {}
    }
}

#[tokio::test]
async fn sync_cursors_expire_after_the_retention() {
    let app = TestApp::start_with(Backend::Sqlite, &[("SYNC_RETENTION", "2s")], axum::Router::new())
        .await
        .unwrap();
    let user = app.signup("retention@example.com").await;
    let (_, first) = sync(&app, &user, "").await;
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    let (status, _) = sync(&app, &user, &format!("?since={cursor}")).await;
    assert_eq!(status, 200, "fresh");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, body) = sync(&app, &user, &format!("?since={cursor}")).await;
    assert_detail(status, &body, 410, "Sync cursor expired; sync again without since");
    let (status, _) = sync(&app, &user, "").await;
    assert_eq!(status, 200, "a sync without since still works");
    app.stop().await;
}

/// The promise of §9: a syncer looping while 8 writers on two instances create, update, toggle
/// and delete (60 writes each) ends with a copy equal to the server's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_sync_misses_nothing_with_writers_on_two_instances() {
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let sibling = app.start_sibling().await;
    let user = app.signup("two-instances@example.com").await;
    let bases = [app.base.clone(), sibling.base.clone()];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let mut writers = Vec::new();
    for w in 0..8u64 {
        let (client, base, user) = (app.client.clone(), bases[w as usize % 2].clone(), user.clone());
        writers.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w + 1));
            let (mut live, mut cats) = (Vec::new(), Vec::new());
            for _ in 0..60 {
                write_once_at(&client, &base, &user, &mut rng, &mut live, &mut cats).await;
            }
        }));
    }
    let syncer = {
        let (client, bases, user, done) = (app.client.clone(), bases.clone(), user.clone(), done.clone());
        tokio::spawn(async move {
            let mut copy = Copy::default();
            let (mut rounds, mut requests) = (0usize, 0usize);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                requests += copy.catch_up(&client, &bases[rounds % 2], &user).await;
                rounds += 1;
            }
            copy.catch_up(&client, &bases[rounds % 2], &user).await;
            (copy, requests)
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (copy, requests) = syncer.await.unwrap();
    assert!(
        requests >= 5,
        "the syncer synced while the writers wrote ({requests} requests)"
    );
    let (server_tasks, server_categories) = server_state(&app, &user).await;
    assert!(!server_tasks.is_empty());
    assert_eq!(
        copy.tasks.len(),
        server_tasks.len(),
        "no missed creation, no resurrected deletion"
    );
    assert_eq!(copy.tasks, server_tasks, "every field of every task");
    assert_eq!(copy.categories, server_categories, "every field of every category");

    sibling.stop().await;
    app.stop().await;
}
